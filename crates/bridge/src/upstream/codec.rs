//! The tonic codec of the transcoded RPCs: requests are encoded by prost
//! as usual; an answer is read from its wire bytes straight into the
//! protocol's JSON ([`super::transcode`]), or decoded by prost when the
//! walk leaves it to prost (then exactly what tonic's prost codec does,
//! errors included).

use std::marker::PhantomData;

use bytes::Buf as _;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use super::transcode::{Unusual, transcode};
use extdb_contract::pb;
use extdb_protocol::{JsonReply, JsonReplyKind};

/// A response message the transcoder can read.
pub(super) trait Transcoded: prost::Message + Default + Send + 'static {
    const KIND: JsonReplyKind;
}

impl Transcoded for pb::QueryItemsResponse {
    const KIND: JsonReplyKind = JsonReplyKind::Items;
}
impl Transcoded for pb::QueryDistinctValuesResponse {
    const KIND: JsonReplyKind = JsonReplyKind::DistinctValues;
}
impl Transcoded for pb::QueryReferencedItemsResponse {
    const KIND: JsonReplyKind = JsonReplyKind::ReferencedItems;
}
impl Transcoded for pb::InsertItemsResponse {
    const KIND: JsonReplyKind = JsonReplyKind::Results;
}
impl Transcoded for pb::UpdateItemsResponse {
    const KIND: JsonReplyKind = JsonReplyKind::Results;
}
impl Transcoded for pb::RemoveItemsResponse {
    const KIND: JsonReplyKind = JsonReplyKind::Results;
}

/// What the codec hands over for one answer.
#[derive(Debug)]
pub(super) enum Answer<R> {
    Json(JsonReply),
    /// Decoded by prost (an encoding the walk does not take).
    Typed(R),
}

/// Reads `wire`, one whole response message.
pub(super) fn read_answer<R: Transcoded>(wire: &[u8]) -> Result<Answer<R>, Status> {
    match transcode(R::KIND, wire) {
        Ok(json) => Ok(Answer::Json(json)),
        Err(Unusual) => R::decode(wire)
            .map(Answer::Typed)
            // As tonic's prost codec reports a decode error.
            .map_err(|e| Status::internal(e.to_string())),
    }
}

pub(super) struct TranscodingCodec<Req, Resp>(PhantomData<fn(Req) -> Resp>);

impl<Req, Resp> Default for TranscodingCodec<Req, Resp> {
    fn default() -> Self {
        TranscodingCodec(PhantomData)
    }
}

impl<Req, Resp> Codec for TranscodingCodec<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: Transcoded,
{
    type Encode = Req;
    type Decode = Answer<Resp>;
    type Encoder = RequestEncoder<Req>;
    type Decoder = AnswerDecoder<Resp>;

    fn encoder(&mut self) -> Self::Encoder {
        RequestEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        AnswerDecoder(PhantomData)
    }
}

pub(super) struct RequestEncoder<Req>(PhantomData<fn(Req)>);

impl<Req: prost::Message> Encoder for RequestEncoder<Req> {
    type Item = Req;
    type Error = Status;

    fn encode(&mut self, item: Req, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        // The buffer grows as needed: prost cannot run out of room.
        item.encode(buf)
            .map_err(|e| Status::internal(format!("cannot encode the request: {e}")))
    }
}

pub(super) struct AnswerDecoder<Resp>(PhantomData<fn() -> Resp>);

impl<Resp: Transcoded> Decoder for AnswerDecoder<Resp> {
    type Item = Answer<Resp>;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Answer<Resp>>, Status> {
        let len = buf.remaining();
        // tonic hands one message in one contiguous buffer; should that
        // change, the message is gathered once.
        let answer = if buf.chunk().len() == len {
            let answer = read_answer(buf.chunk())?;
            buf.advance(len);
            answer
        } else {
            read_answer(&buf.copy_to_bytes(len))?
        };
        Ok(Some(answer))
    }
}
