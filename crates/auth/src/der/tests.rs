use super::*;

#[test]
fn reads_short_and_long_lengths() {
    let mut long = vec![0x04, 0x81, 0x80];
    long.extend(std::iter::repeat_n(7u8, 0x80));
    let mut reader = DerReader::new(&long);
    assert_eq!(reader.read(0x04).map(<[u8]>::len), Some(0x80));
    assert!(reader.is_empty());

    let mut reader = DerReader::new(&[0x06, 0x03, 0x2b, 0x65, 0x70]);
    assert_eq!(reader.read(TAG_SEQUENCE), None);
    assert_eq!(
        reader.read(TAG_OID).map(oid_to_string).as_deref(),
        Some("1.3.101.112")
    );
}

#[test]
fn rejects_truncated_and_indefinite() {
    assert_eq!(DerReader::new(&[0x30, 0x05, 0x01]).read(TAG_SEQUENCE), None);
    assert_eq!(DerReader::new(&[0x30, 0x80, 0x00]).read(TAG_SEQUENCE), None);
    assert_eq!(DerReader::new(&[0x30]).read(TAG_SEQUENCE), None);
    assert_eq!(oid_to_string(&[0x2a, 0x86]), "(malformed OID)");
}
