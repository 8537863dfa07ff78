//! The filter cases of the end-to-end filter suite: a handful of items
//! (including null and missing values) and, for each filter, the exact set
//! of `_id`s the reference store matches. Shared by the store's suite
//! (`bridge/tests/e2e/filters.rs`) and the differential test of the `aip`
//! upstream kind, which runs the same cases against an existing API.

use serde_json::{Value, json};

pub const ALL: &[&str] = &["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"];

pub fn items() -> Vec<Value> {
    vec![
        json!({"_id": "i1", "name": "Alpha", "n": 1, "flag": true,
               "at": {"$date": "2020-01-01T00:00:00.000Z"},
               "obj": {"city": "Lisbon", "zip": 1000, "inner": {"k": "x"}}, "tags": ["a", "b"]}),
        json!({"_id": "i2", "name": "beta", "n": 2.5, "flag": false,
               "at": {"$date": "2021-06-15T12:00:00.000Z"},
               "obj": {"city": "Porto", "zip": 4000}, "tags": ["b", "c"]}),
        json!({"_id": "i3", "name": "Gamma ray", "n": -3, "flag": true,
               "at": {"$date": "2019-12-31T23:59:59.999Z"},
               "obj": {"city": "lisbon"}, "tags": []}),
        // Explicit nulls.
        json!({"_id": "i4", "name": null, "n": 0, "flag": null, "at": null, "obj": null, "tags": null}),
        // Everything missing.
        json!({"_id": "i5"}),
        json!({"_id": "i6", "name": "alphabet", "n": 100, "flag": false,
               "at": {"$date": "2022-01-01T00:00:00.000Z"},
               "obj": {"city": "Faro", "zip": 8000}, "tags": ["a"]}),
        // LIKE and SQL metacharacters in values.
        json!({"_id": "i7", "name": "50% off_sale", "n": 10}),
        json!({"_id": "i8", "name": "O'Brien; DROP--"}),
    ]
}

pub fn but(excluded: &[&str]) -> Vec<&'static str> {
    ALL.iter()
        .copied()
        .filter(|i| !excluded.contains(i))
        .collect()
}

pub fn cases() -> Vec<(Value, Vec<&'static str>)> {
    let d = |s: &str| json!({"$date": s});
    let slug = |parts: Value| json!({"$matches": {"ignoreCase": true, "spec": parts}});
    vec![
        // ---- everything / nothing ----
        (json!({}), ALL.to_vec()),
        (Value::Null, ALL.to_vec()),
        (json!({"$and": []}), ALL.to_vec()),
        (json!({"$or": []}), vec![]),
        // ---- _id ----
        (json!({"_id": {"$eq": "i2"}}), vec!["i2"]),
        (
            json!({"_id": {"$in": ["i1", "i3", "nope"]}}),
            vec!["i1", "i3"],
        ),
        (json!({"_id": {"$startsWith": "I"}}), ALL.to_vec()),
        // ---- TEXT ----
        (json!({"name": "Alpha"}), vec!["i1"]),
        (json!({"name": {"$eq": "Alpha"}}), vec!["i1"]),
        // Equality is case-sensitive (data-operations §10.3).
        (json!({"name": "alpha"}), vec![]),
        // NE is the negation of EQ: null and missing match (store's documented choice).
        (json!({"name": {"$ne": "Alpha"}}), but(&["i1"])),
        (json!({"name": null}), vec!["i4", "i5"]),
        (json!({"name": {"$eq": null}}), vec!["i4", "i5"]),
        (
            json!({"name": {"$ne": null}}),
            vec!["i1", "i2", "i3", "i6", "i7", "i8"],
        ),
        (
            json!({"name": {"$exists": true}}),
            vec!["i1", "i2", "i3", "i6", "i7", "i8"],
        ),
        (json!({"name": {"$exists": false}}), vec!["i4", "i5"]),
        (json!({"name": {"$contains": "ALP"}}), vec!["i1", "i6"]),
        (json!({"name": {"$startsWith": "al"}}), vec!["i1", "i6"]),
        (json!({"name": {"$endsWith": "RAY"}}), vec!["i3"]),
        (
            json!({"name": {"$endsWith": "ray", "$startsWith": "gam"}}),
            vec!["i3"],
        ),
        // LIKE wildcards are literal.
        (json!({"name": {"$contains": "%"}}), vec!["i7"]),
        (json!({"name": {"$contains": "_"}}), vec!["i7"]),
        (json!({"name": {"$startsWith": "_"}}), vec![]),
        (json!({"name": {"$contains": "'"}}), vec!["i8"]),
        (json!({"name": {"$contains": "; DROP--"}}), vec!["i8"]),
        // Ordering is by code point ("5" < "A" < "G" < "O" < "a" < "b").
        (json!({"name": {"$lt": "B"}}), vec!["i1", "i7"]),
        (json!({"name": {"$gte": "beta"}}), vec!["i2"]),
        (json!({"name": {"$gt": "beta"}}), vec![]),
        (json!({"name": {"$lte": "Alpha"}}), vec!["i1", "i7"]),
        (
            json!({"name": {"$in": ["Alpha", "beta", "nope"]}}),
            vec!["i1", "i2"],
        ),
        (json!({"name": {"$in": []}}), vec![]),
        (
            json!({"name": {"$hasSome": ["Alpha", "beta"]}}),
            vec!["i1", "i2"],
        ),
        (
            json!({"name": slug(json!([{"type": "literal", "value": "gamma"}, {"type": "anyOf", "value": " \t\n-"}, {"type": "literal", "value": "RAY"}]))}),
            vec!["i3"],
        ),
        // Literals are not regexes; anyOf matches exactly one character.
        (
            json!({"name": slug(json!([{"type": "literal", "value": "50%"}, {"type": "anyOf", "value": " -"}, {"type": "literal", "value": "off_sale"}]))}),
            vec!["i7"],
        ),
        (
            json!({"name": slug(json!([{"type": "literal", "value": "O'Brien;"}, {"type": "anyOf", "value": " "}, {"type": "literal", "value": "DROP--"}]))}),
            vec!["i8"],
        ),
        (
            json!({"name": slug(json!([{"type": "literal", "value": "Gamma.ray"}]))}),
            vec![],
        ),
        // Anchored: a prefix alone does not match.
        (
            json!({"name": slug(json!([{"type": "literal", "value": "gamma"}]))}),
            vec![],
        ),
        // Legacy slug match: lower-cased value = words joined by '-' or ' '.
        (json!({"name": {"$urlized": ["gamma", "ray"]}}), vec!["i3"]),
        (json!({"name": {"$urlized": ["gamma"]}}), vec![]),
        // ---- NUMBER ----
        (json!({"n": 2.5}), vec!["i2"]),
        (json!({"n": 0}), vec!["i4"]),
        (json!({"n": 1.0}), vec!["i1"]),
        (json!({"n": "1"}), vec![]),
        (json!({"n": {"$ne": 1}}), but(&["i1"])),
        (json!({"n": {"$gt": 1}}), vec!["i2", "i6", "i7"]),
        (json!({"n": {"$gte": 1}}), vec!["i1", "i2", "i6", "i7"]),
        (json!({"n": {"$lt": 0}}), vec!["i3"]),
        (json!({"n": {"$lte": 0}}), vec!["i3", "i4"]),
        // Several operators on one field: all apply (between()).
        (json!({"n": {"$gte": 0, "$lt": 10}}), vec!["i1", "i2", "i4"]),
        (json!({"n": {"$in": [1, 100, 7]}}), vec!["i1", "i6"]),
        (json!({"n": {"$hasSome": [1, 2.5]}}), vec!["i1", "i2"]),
        (json!({"n": {"$exists": false}}), vec!["i5", "i8"]),
        (json!({"n": null}), vec!["i5", "i8"]),
        // ---- BOOLEAN ----
        (json!({"flag": true}), vec!["i1", "i3"]),
        (json!({"flag": false}), vec!["i2", "i6"]),
        (json!({"flag": {"$eq": false}}), vec!["i2", "i6"]),
        (json!({"flag": {"$ne": true}}), but(&["i1", "i3"])),
        (json!({"flag": null}), vec!["i4", "i5", "i7", "i8"]),
        (
            json!({"flag": {"$exists": true}}),
            vec!["i1", "i2", "i3", "i6"],
        ),
        // ---- DATETIME ----
        (json!({"at": d("2020-01-01T00:00:00.000Z")}), vec!["i1"]),
        // Same instant without milliseconds.
        (json!({"at": d("2020-01-01T00:00:00Z")}), vec!["i1"]),
        (
            json!({"at": {"$eq": d("2019-12-31T23:59:59.999Z")}}),
            vec!["i3"],
        ),
        (
            json!({"at": {"$gt": d("2020-01-01T00:00:00.000Z")}}),
            vec!["i2", "i6"],
        ),
        (
            json!({"at": {"$gte": d("2020-01-01T00:00:00.000Z")}}),
            vec!["i1", "i2", "i6"],
        ),
        (
            json!({"at": {"$lt": d("2020-01-01T00:00:00.000Z")}}),
            vec!["i3"],
        ),
        (
            json!({"at": {"$lte": d("2020-01-01T00:00:00.000Z")}}),
            vec!["i1", "i3"],
        ),
        // Millisecond precision is kept.
        (
            json!({"at": {"$gt": d("2019-12-31T23:59:59.998Z"), "$lt": d("2020-01-01T00:00:00.000Z")}}),
            vec!["i3"],
        ),
        (
            json!({"at": {"$ne": d("2020-01-01T00:00:00.000Z")}}),
            but(&["i1"]),
        ),
        (
            json!({"at": {"$in": [d("2020-01-01T00:00:00.000Z"), d("2022-01-01T00:00:00.000Z")]}}),
            vec!["i1", "i6"],
        ),
        (json!({"at": null}), vec!["i4", "i5", "i7", "i8"]),
        (
            json!({"at": {"$exists": true}}),
            vec!["i1", "i2", "i3", "i6"],
        ),
        // ---- OBJECT ----
        // Whole-object equality ignores key order and is deep.
        (
            json!({"obj": {"zip": 1000, "inner": {"k": "x"}, "city": "Lisbon"}}),
            vec!["i1"],
        ),
        (json!({"obj": {"$eq": {"city": "lisbon"}}}), vec!["i3"]),
        // Deep equality, not containment (data-operations §4.2 recommendation).
        (json!({"obj": {"city": "Lisbon"}}), vec![]),
        (json!({"obj": null}), vec!["i4", "i5", "i7", "i8"]),
        (
            json!({"obj": {"$exists": true}}),
            vec!["i1", "i2", "i3", "i6"],
        ),
        (json!({"obj.city": "Lisbon"}), vec!["i1"]),
        (json!({"obj.city": {"$eq": "Porto"}}), vec!["i2"]),
        (json!({"obj.city": {"$contains": "LISB"}}), vec!["i1", "i3"]),
        (json!({"obj.city": {"$startsWith": "f"}}), vec!["i6"]),
        (json!({"obj.zip": {"$gt": 2000}}), vec!["i2", "i6"]),
        (json!({"obj.zip": {"$lte": 4000}}), vec!["i1", "i2"]),
        (json!({"obj.inner.k": "x"}), vec!["i1"]),
        (
            json!({"obj.city": {"$in": ["Porto", "Faro"]}}),
            vec!["i2", "i6"],
        ),
        (json!({"obj.city": null}), vec!["i4", "i5", "i7", "i8"]),
        (
            json!({"obj.zip": {"$exists": false}}),
            vec!["i3", "i4", "i5", "i7", "i8"],
        ),
        (json!({"obj.city": {"$ne": "Lisbon"}}), but(&["i1"])),
        // ---- ARRAY ----
        (json!({"tags": {"$hasSome": ["a"]}}), vec!["i1", "i6"]),
        (json!({"tags": {"$hasSome": ["c", "zz"]}}), vec!["i2"]),
        (json!({"tags": {"$hasSome": []}}), vec![]),
        (json!({"tags": {"$hasAll": ["a", "b"]}}), vec!["i1"]),
        (json!({"tags": {"$hasAll": ["b"]}}), vec!["i1", "i2"]),
        (json!({"tags": {"$hasAll": ["a", "c"]}}), vec![]),
        (json!({"tags": ["a", "b"]}), vec!["i1"]),
        (json!({"tags": ["b", "a"]}), vec![]),
        (json!({"tags": []}), vec!["i3"]),
        (json!({"tags": null}), vec!["i4", "i5", "i7", "i8"]),
        (
            json!({"tags": {"$exists": true}}),
            vec!["i1", "i2", "i3", "i6"],
        ),
        // ---- logic ----
        (
            json!({"$or": [{"n": 1}, {"flag": false}]}),
            vec!["i1", "i2", "i6"],
        ),
        (
            json!({"$and": [{"flag": true}, {"n": {"$gt": 0}}]}),
            vec!["i1"],
        ),
        // Multi-key objects are an AND of all keys.
        (
            json!({"flag": true, "name": {"$startsWith": "g"}}),
            vec!["i3"],
        ),
        (
            json!({"flag": false, "n": {"$gt": 50}, "tags": {"$hasSome": ["a"]}}),
            vec!["i6"],
        ),
        (json!({"$not": {"name": "Alpha"}}), but(&["i1"])),
        (json!({"$not": [{"name": "Alpha"}]}), but(&["i1"])),
        (json!({"$not": {"$not": {"name": "Alpha"}}}), vec!["i1"]),
        (
            json!({"$not": [{"$or": [{"flag": true}, {"flag": false}]}]}),
            vec!["i4", "i5", "i7", "i8"],
        ),
        // Field-level $not.
        (json!({"name": {"$not": {"$eq": "Alpha"}}}), but(&["i1"])),
        (
            json!({"n": {"$not": {"$gte": 1}}}),
            but(&["i1", "i2", "i6", "i7"]),
        ),
        (
            json!({"$or": [{"$and": [{"obj.city": "Porto"}, {"n": 2.5}]}, {"at": {"$lt": d("2020-01-01T00:00:00.000Z")}}]}),
            vec!["i2", "i3"],
        ),
    ]
}
