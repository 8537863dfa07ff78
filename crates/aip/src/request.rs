//! The requests of every read (Get, List) encoded straight to protobuf
//! bytes from the resolved fields, without building a dynamic message per
//! call. Writes, rarer and richer, still go through `DynamicMessage`.

use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};
use prost_reflect::{FieldDescriptor, Kind};

/// One request being encoded.
#[derive(Debug, Default)]
pub struct RequestWriter {
    bytes: Vec<u8>,
}

impl RequestWriter {
    pub fn new() -> RequestWriter {
        RequestWriter {
            bytes: Vec::with_capacity(128),
        }
    }

    /// A string field (callers leave empty ones out, as proto3 does).
    pub fn string(&mut self, field: &FieldDescriptor, value: &str) {
        encode_key(field.number(), WireType::LengthDelimited, &mut self.bytes);
        encode_varint(value.len() as u64, &mut self.bytes);
        self.bytes.extend_from_slice(value.as_bytes());
    }

    /// An integer field of any integer type (clamped to the type's range).
    pub fn integer(&mut self, field: &FieldDescriptor, n: i64) {
        let (wire, raw) = match field.kind() {
            Kind::Int64 => (WireType::Varint, n as u64),
            Kind::Uint64 => (WireType::Varint, n.max(0) as u64),
            Kind::Uint32 => (WireType::Varint, n.clamp(0, i64::from(u32::MAX)) as u64),
            Kind::Sint64 => (WireType::Varint, ((n << 1) ^ (n >> 63)) as u64),
            Kind::Sint32 => {
                let n = n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
                (WireType::Varint, u64::from(((n << 1) ^ (n >> 31)) as u32))
            }
            Kind::Fixed64 => (WireType::SixtyFourBit, n.max(0) as u64),
            Kind::Sfixed64 => (WireType::SixtyFourBit, n as u64),
            Kind::Fixed32 => (
                WireType::ThirtyTwoBit,
                n.clamp(0, i64::from(u32::MAX)) as u64,
            ),
            Kind::Sfixed32 => (
                WireType::ThirtyTwoBit,
                u64::from(n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32 as u32),
            ),
            // int32 (and anything else resolution let through): a varint
            // of the sign-extended value.
            _ => (
                WireType::Varint,
                n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as u64,
            ),
        };
        encode_key(field.number(), wire, &mut self.bytes);
        match wire {
            WireType::SixtyFourBit => self.bytes.extend_from_slice(&raw.to_le_bytes()),
            WireType::ThirtyTwoBit => self.bytes.extend_from_slice(&(raw as u32).to_le_bytes()),
            _ => encode_varint(raw, &mut self.bytes),
        }
    }

    /// A `google.protobuf.FieldMask` field (`repeated string paths = 1`).
    pub fn field_mask(&mut self, field: &FieldDescriptor, paths: &[String]) {
        let path_key_len = 1; // field 1, length-delimited: one byte
        let len: usize = paths
            .iter()
            .map(|p| path_key_len + encoded_len_varint(p.len() as u64) + p.len())
            .sum();
        encode_key(field.number(), WireType::LengthDelimited, &mut self.bytes);
        encode_varint(len as u64, &mut self.bytes);
        for path in paths {
            encode_key(1, WireType::LengthDelimited, &mut self.bytes);
            encode_varint(path.len() as u64, &mut self.bytes);
            self.bytes.extend_from_slice(path.as_bytes());
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests;
