//! `read_tables` against a real server: the sizes `sync` orders and splits tables by.

use confiture_pg::tables::read_tables;
use confiture_testkit::TestDb;

#[tokio::test]
async fn sizes_count_ordinary_tables_and_every_partition_of_a_partitioned_one() {
    let db = TestDb::new();
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE plain (id bigint PRIMARY KEY, body text);
             INSERT INTO plain SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;
             CREATE TABLE empty (id bigint PRIMARY KEY);
             CREATE TABLE parted (id bigint, at date) PARTITION BY RANGE (at);
             CREATE TABLE parted_a PARTITION OF parted FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
             CREATE TABLE parted_b PARTITION OF parted FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
             INSERT INTO parted SELECT g, date '2020-01-01' + (g % 700) FROM generate_series(1, 5000) g;
             ANALYZE;",
        )
        .await
        .expect("schema");
    let row = client
        .query_one(
            "SELECT pg_relation_size('plain'), \
                    pg_relation_size('parted_a') + pg_relation_size('parted_b')",
            &[],
        )
        .await
        .unwrap();
    let (plain_bytes, parted_bytes): (i64, i64) = (row.get(0), row.get(1));
    assert!(plain_bytes > 500_000, "{plain_bytes}");
    assert!(parted_bytes > 0);

    let tables = read_tables(&client).await.expect("read_tables");
    let by_name = |n: &str| tables.iter().find(|t| t.name == n).expect(n);
    assert_eq!(by_name("plain").bytes, plain_bytes);
    assert_eq!(by_name("plain").estimated_rows, 5000);
    assert_eq!(by_name("empty").bytes, 0);
    let parted = by_name("parted");
    assert!(parted.partitioned);
    assert_eq!(parted.bytes, parted_bytes);
    // Partitions are copied through their root and not listed.
    assert!(tables.iter().all(|t| !t.name.starts_with("parted_")));
}
