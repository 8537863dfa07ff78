//! Just enough DER reading to find the algorithm of a public key: the
//! signature checks themselves are done by aws-lc-rs on the whole encoding.

pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;

/// A cursor over DER bytes. Every read checks bounds, so malformed input
/// yields `None`, never a panic.
pub(crate) struct DerReader<'a> {
    rest: &'a [u8],
}

impl<'a> DerReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        DerReader { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads one element with the given tag and returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&actual_tag, rest) = self.rest.split_first()?;
        if actual_tag != tag {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // Long form; 0x80 (indefinite length) is not DER. Four length
            // bytes are far more than any key needs.
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (len_bytes, after) = rest.split_at(count);
            rest = after;
            len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        if rest.len() < len {
            return None;
        }
        let (contents, after) = rest.split_at(len);
        self.rest = after;
        Some(contents)
    }
}

/// Dotted form of an OID's contents, for error messages.
pub(crate) fn oid_to_string(oid: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut value: u64 = 0;
    for (i, &byte) in oid.iter().enumerate() {
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if parts.is_empty() {
                // The first sub-identifier packs the first two arcs.
                let first = (value / 40).min(2);
                parts.push(first.to_string());
                parts.push((value - first * 40).to_string());
            } else {
                parts.push(value.to_string());
            }
            value = 0;
        } else if i == oid.len() - 1 || value > (u64::MAX >> 7) {
            return "(malformed OID)".to_owned();
        }
    }
    parts.join(".")
}

#[cfg(test)]
mod tests;
