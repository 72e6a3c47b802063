//! Catalog schema: migrations from an empty database and from every earlier
//! version reach the same schema and keep the data.

use shoebox_engine::catalog::{Catalog, LATEST_VERSION};

fn schema(catalog: &Catalog) -> Vec<(String, String)> {
    let conn = catalog.connection();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn fresh_catalog_is_at_latest_version_with_wal_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let c = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
    assert_eq!(c.schema_version().unwrap(), LATEST_VERSION);
    let mode: String = c
        .connection()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = c
        .connection()
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    assert_eq!(c.integrity_check().unwrap(), "ok");
}

#[test]
fn every_earlier_version_upgrades_to_the_same_schema_keeping_data() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = Catalog::open(&dir.path().join("fresh.sqlite")).unwrap();
    let expected = schema(&fresh);
    for start in 1..LATEST_VERSION {
        let path = dir.path().join(format!("v{start}.sqlite"));
        let old = Catalog::open_unmigrated(&path).unwrap();
        old.migrate_to(start).unwrap();
        assert_eq!(old.schema_version().unwrap(), start);
        // Data written by the old version: a root, a photo, a file.
        old.connection()
            .execute_batch(
                "INSERT INTO roots (id, path, display_path, added_at) VALUES (1, X'2F70', '/p', 't');
                 INSERT INTO photos (id, hash, width, height, format, orientation, added_at)
                     VALUES (1, X'00', 10, 20, 'jpeg', 6, 't');
                 INSERT INTO files (root_id, photo_id, path, display_path, size, mtime_ns, status)
                     VALUES (1, 1, X'2F702F61', '/p/a', 5, 7, 'ok');",
            )
            .unwrap();
        drop(old);
        let upgraded = Catalog::open(&path).unwrap();
        assert_eq!(upgraded.schema_version().unwrap(), LATEST_VERSION);
        assert_eq!(schema(&upgraded), expected, "upgrading from v{start}");
        let (w, h, o): (i64, i64, i64) = upgraded
            .connection()
            .query_row("SELECT width, height, orientation FROM photos", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((w, h, o), (10, 20, 6));
        assert_eq!(upgraded.integrity_check().unwrap(), "ok");
    }
}

#[test]
fn a_catalog_from_a_newer_shoebox_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let c = Catalog::open(&path).unwrap();
    c.connection()
        .pragma_update(None, "user_version", LATEST_VERSION + 1)
        .unwrap();
    drop(c);
    let err = Catalog::open(&path).err().unwrap();
    assert!(err.to_string().contains("newer Shoebox"), "{err}");
}
