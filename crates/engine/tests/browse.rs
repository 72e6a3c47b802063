//! The browsing verbs the app and the HTTP API use, on a real catalog of
//! generated JPEGs with real EXIF dates: timeline months and pages, photo
//! details, tags by photo and by tag, the tag tree, locations, first run
//! and the thumbnail cache.

#[path = "../../../tests/support/mod.rs"]
mod support;

use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::Library;
use support::*;

fn library_with_dates(dates: &[Option<&'static str>]) -> (tempfile::TempDir, Library) {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    for (i, date) in dates.iter().enumerate() {
        let img = synthetic(64, 48, i as u32 + 1);
        let bytes = match date {
            Some(d) => jpeg_with_exif(
                &img,
                &ExifSpec {
                    date: Some(d),
                    offset: Some("+00:00"),
                    make: Some("Acme"),
                    model: Some("One"),
                    ..Default::default()
                },
            ),
            None => encode_jpeg(&img, 90),
        };
        write(&photos.join(format!("sub/p{i}.jpg")), &bytes);
    }
    let library = Library::open(&tmp.path().join("library")).unwrap();
    library.add_folder(&photos).unwrap();
    library
        .scan(
            &ScanOptions {
                threads: 1,
                cancel: None,
            },
            &|_| {},
        )
        .unwrap();
    (tmp, library)
}

#[test]
fn timeline_months_and_pages_agree() {
    let dates = [
        Some("2021:07:04 10:00:00"),
        Some("2021:07:20 10:00:00"),
        Some("2020:01:02 10:00:00"),
        Some("2021:08:01 10:00:00"),
        Some("2021:07:10 10:00:00"),
    ];
    let (_tmp, library) = library_with_dates(&dates);
    let t = library.timeline(0, 100, true).unwrap();
    assert_eq!(t.total, 5);
    let months: Vec<(Option<String>, i64, i64)> = t
        .months
        .unwrap()
        .into_iter()
        .map(|m| (m.month, m.count, m.offset))
        .collect();
    assert_eq!(
        months,
        [
            (Some("2021-08".into()), 1, 0),
            (Some("2021-07".into()), 3, 1),
            (Some("2020-01".into()), 1, 4),
        ]
    );
    let dates: Vec<String> = t
        .photos
        .iter()
        .map(|p| p.taken_at.clone().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");
    assert!(t.photos.iter().all(|p| (p.width, p.height) == (64, 48)));

    // Pages of 2 cover the same order without the months.
    let mut paged = Vec::new();
    for offset in (0..5).step_by(2) {
        let page = library.timeline(offset, 2, false).unwrap();
        assert!(page.months.is_none());
        assert_eq!(page.total, 5);
        paged.extend(page.photos.into_iter().map(|p| p.id));
    }
    let all: Vec<i64> = t.photos.iter().map(|p| p.id).collect();
    assert_eq!(paged, all);
    assert!(library.timeline(0, 5000, false).is_err(), "page too large");

    // The in-memory order follows changes: new photos, a tag edit, a
    // folder going away; it always equals a fresh load.
    let fresh = |l: &Library| {
        let again = Library::open(l.dir()).unwrap();
        let t = again.timeline(0, 100, true).unwrap();
        (t.total, t.months, t.photos)
    };
    let current = |l: &Library| {
        let t = l.timeline(0, 100, true).unwrap();
        (t.total, t.months, t.photos)
    };
    let photos = library.folders().unwrap()[0].path.clone();
    for (i, d) in ["2021:07:15 09:00:00", "1999:12:31 23:00:00"]
        .iter()
        .enumerate()
    {
        let img = synthetic(64, 48, 100 + i as u32);
        let spec = ExifSpec {
            date: Some(d),
            offset: Some("+00:00"),
            ..Default::default()
        };
        write(
            &photos.join(format!("new{i}.jpg")),
            &jpeg_with_exif(&img, &spec),
        );
    }
    library
        .scan(
            &ScanOptions {
                threads: 1,
                cancel: None,
            },
            &|_| {},
        )
        .unwrap();
    let after_scan = current(&library);
    assert_eq!(after_scan.0, 7);
    assert_eq!(after_scan, fresh(&library));
    library.add_tag(after_scan.2[0].id, "beach").unwrap();
    assert_eq!(current(&library), fresh(&library));
    let extra = library.dir().parent().unwrap().join("extra");
    write(
        &extra.join("x.jpg"),
        &encode_jpeg(&synthetic(32, 32, 999), 90),
    );
    let root = library.add_folder(&extra).unwrap();
    library
        .scan(
            &ScanOptions {
                threads: 1,
                cancel: None,
            },
            &|_| {},
        )
        .unwrap();
    assert_eq!(current(&library).0, 8);
    library.remove_folder_id(root.id).unwrap();
    assert_eq!(current(&library), fresh(&library));
    assert_eq!(current(&library).0, 7);
}

#[test]
fn photo_details_tags_tree_and_location() {
    let (_tmp, library) = library_with_dates(&[Some("2019:05:17 12:00:00"), None]);
    // Without EXIF, the file's modification time (now) dates the other one.
    let id = library.timeline(0, 10, false).unwrap().photos[1].id;
    library.add_tag(id, "Golden Retriever").unwrap();
    library.add_tag(id, "Vacation 2019").unwrap();
    library.remove_tag(id, "beach").unwrap();

    let d = library.photo_details(id).unwrap();
    assert_eq!(d.info.capture.camera_make.as_deref(), Some("Acme"));
    assert_eq!(d.files.len(), 1);
    assert!(d.bytes > 0 && d.files[0].bytes == d.bytes && d.files[0].online);
    let tags: Vec<(&str, &str)> = d
        .tags
        .iter()
        .map(|t| (t.tag.as_str(), t.source.as_str()))
        .collect();
    assert!(tags.contains(&("golden retriever", "user")), "{tags:?}");
    assert!(
        tags.contains(&("dog", "auto")),
        "parents come along: {tags:?}"
    );
    let keyword = d.tags.iter().find(|t| t.tag == "vacation 2019").unwrap();
    assert_eq!(keyword.name, "Vacation 2019");
    assert_eq!(d.rejected, ["beach"]);

    let tree = library.tag_tree().unwrap();
    let dog = tree.iter().find(|n| n.tag == "dog").unwrap();
    assert_eq!(dog.count, 1);
    assert!(!dog.parents.is_empty() && !dog.keyword);
    let vacation = tree.iter().find(|n| n.tag == "vacation 2019").unwrap();
    assert!(vacation.keyword && vacation.user == 1);
    let beach = tree.iter().find(|n| n.tag == "beach").unwrap();
    assert_eq!((beach.count, beach.rejected), (0, 1));

    let by_tag = library.tag_photos("Golden Retriever", None, 0, 10).unwrap();
    assert_eq!(by_tag.tag, "golden retriever");
    assert_eq!(by_tag.total, 1);
    assert_eq!(by_tag.photos[0].id, id);
    let source = by_tag.photos[0].source.clone();
    let same = library
        .tag_photos("golden retriever", Some(&source), 0, 10)
        .unwrap();
    assert_eq!(same.total, 1);
    let other = if source == "auto" { "user" } else { "auto" };
    let none = library
        .tag_photos("golden retriever", Some(other), 0, 10)
        .unwrap();
    assert_eq!(none.total, 0);
    assert_eq!(
        library
            .tag_photos("nothing here", None, 0, 10)
            .unwrap()
            .total,
        0
    );

    let loc = library.photo_location(id).unwrap();
    assert!(loc.path.ends_with(".jpg") && loc.online);
    assert!(loc.path.starts_with(&loc.folder) && loc.folder.ends_with("sub"));
    assert!(library.photo_location(9999).is_err());
}

#[test]
fn first_run_cache_and_folder_by_id() {
    let tmp = tempfile::tempdir().unwrap();
    let library = Library::open(&tmp.path().join("library")).unwrap();
    let fresh = library.first_run(&[]).unwrap();
    assert!(fresh.needed && fresh.folders == 0 && fresh.model.is_none());
    library.finish_first_run().unwrap();
    assert!(!library.first_run(&[]).unwrap().needed);

    let (_tmp2, library) = library_with_dates(&[None, None]);
    let id = library.timeline(0, 10, false).unwrap().photos[0].id;
    let before = library.thumbnail_cache().unwrap();
    assert_eq!(before.files, 2, "the scan made two grid thumbnails");
    library.thumbnail(id, 1024).unwrap();
    let after = library.thumbnail_cache().unwrap();
    assert_eq!(after.files, 3);
    let cleared = library.clear_previews().unwrap();
    assert_eq!(cleared.removed, 1);
    assert_eq!(library.thumbnail_cache().unwrap(), before);

    let root = library.folders().unwrap()[0].clone();
    assert!(library.remove_folder_id(root.id + 100).is_err());
    assert_eq!(library.remove_folder_id(root.id).unwrap().id, root.id);
    assert!(library.folders().unwrap().is_empty());
    assert_eq!(library.timeline(0, 10, true).unwrap().total, 0);
}
