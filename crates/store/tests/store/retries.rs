//! A serialization failure (SQLSTATE 40001) is retried: the whole call runs
//! again and succeeds, nothing of the failed attempt kept. The failure is
//! injected by a trigger on the collection's table that fails the first
//! insert only (a sequence counts attempts: it is not rolled back).
//! PostgreSQL only: on SQLite the test returns at once (the suite says
//! loudly when PostgreSQL is skipped).

use extdb_contract::pb::FieldType;
use extdb_testkit::builders::*;
use extdb_testkit::store::*;

use super::backend::TestDb;

#[tokio::test]
async fn a_serialization_failure_is_retried_and_the_write_lands_once() {
    let db = TestDb::new().await;
    let TestDb::Postgres { url, schema } = &db else {
        return;
    };
    let store = db.serve(db.open()).await;
    let mut c = store.client.clone();
    create_collection(&mut c, "c", vec![field("title", FieldType::Text)]).await;

    let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let table: String = admin
        .query_one(
            &format!("SELECT table_name FROM \"{schema}\".extdb_collections WHERE id = 'c'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!(
            "SET search_path TO \"{schema}\";
             CREATE SEQUENCE attempts;
             CREATE FUNCTION fail_first() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF nextval('attempts') = 1 THEN
                     RAISE EXCEPTION 'injected' USING ERRCODE = '40001';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER fail_first BEFORE INSERT ON \"{table}\"
                 FOR EACH ROW EXECUTE FUNCTION fail_first();"
        ))
        .await
        .unwrap();

    insert_ok(
        &mut c,
        "c",
        vec![item(&[("_id", s("x")), ("title", s("X"))])],
    )
    .await;
    let attempts: i64 = admin
        .query_one("SELECT last_value FROM attempts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(attempts, 2, "one failed attempt, one retry");
    let page = query(&mut c, query_request("c", None)).await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].fields["title"], s("X"));
    store.stop().await;
}
