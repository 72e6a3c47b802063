//! The tag commands as a user or script runs them, on real files: keywords
//! imported at scan (sidecars, embedded XMP and IPTC written by exiftool),
//! re-tagging after `embed` with the random-weight tiny model (plumbing
//! only: its tags mean nothing), user corrections, custom tags, search by
//! tag, and XMP sidecars read back with exiftool.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::Shell;
use crate::support::*;

type Shoebox = Shell;

impl Shell {
    /// (tag, source) of a photo, sorted.
    fn tags(&self, photo: &str) -> Vec<(String, String)> {
        let v = self.json(&["tags", &self.photo(photo)]);
        let mut out: Vec<(String, String)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["tag"].as_str().unwrap().to_string(),
                    t["source"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn setup_tagging(&self) {
        for (i, name) in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"].iter().enumerate() {
            write(
                &self.photos.join(name),
                &encode_jpeg(&synthetic(64, 48, 40 + i as u32), 85),
            );
        }
        self.ok(&["add", self.photos.to_str().unwrap()]);
    }
}

fn exiftool(args: &[&str]) -> Output {
    let out = Command::new("exiftool")
        .args(args)
        .output()
        .expect("exiftool is installed by scripts/prereqs.sh (libimage-exiftool-perl)");
    assert!(
        out.status.success(),
        "exiftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// exiftool's JSON view of a file's XMP.
fn exif_json(path: &Path) -> Value {
    let out = exiftool(&["-j", "-struct", "-XMP:all", path.to_str().unwrap()]);
    serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn pair(tag: &str, source: &str) -> (String, String) {
    (tag.to_string(), source.to_string())
}

#[test]
fn tag_commands_end_to_end() {
    let s = Shoebox::with_tiny_model();
    s.setup_tagging();
    // Keywords another app left: a darktable-style sidecar, a Lightroom-style
    // one, and IPTC + XMP written into a file by exiftool.
    let a_side = s.photos.join("a.jpg.xmp");
    exiftool(&[
        "-q",
        "-XMP-dc:Subject=Seaside",
        "-XMP-dc:Subject=Paris 2019",
        a_side.to_str().unwrap(),
    ]);
    exiftool(&[
        "-q",
        "-XMP-lr:HierarchicalSubject=Animals|Dog",
        s.photos.join("b.xmp").to_str().unwrap(),
    ]);
    exiftool(&[
        "-q",
        "-overwrite_original",
        "-IPTC:Keywords=Sunset",
        "-XMP-dc:Subject=Uncle Bob",
        &s.photo("c.jpg"),
    ]);
    s.ok(&["scan"]);
    assert_eq!(
        s.tags("a.jpg"),
        [pair("beach", "imported"), pair("paris 2019", "imported")]
    );
    assert_eq!(s.tags("b.jpg"), [pair("dog", "imported")]);
    assert_eq!(
        s.tags("c.jpg"),
        [pair("sunset", "imported"), pair("uncle bob", "imported")]
    );

    // `embed` re-tags afterwards and reports it.
    let report = s.json(&["embed"]);
    assert_eq!(report["embedded"], 4);
    let tags = &report["tags"];
    assert!(tags["prototypes_built"].as_u64().unwrap() >= 500, "{tags}");
    assert_eq!(tags["photos_scored"], 4);
    // Nothing left: a second re-tag is free.
    let again = s.json(&["tags", "retag"]);
    assert_eq!(
        (
            again["prototypes_built"].as_u64(),
            again["photos_scored"].as_u64()
        ),
        (Some(0), Some(0))
    );

    // The literal shape: [{"tag", "score", "source"}].
    let shown = s.json(&["tags", &s.photo("a.jpg")]);
    for t in shown.as_array().unwrap() {
        assert!(t["tag"].is_string() && t["source"].is_string());
        assert!(t.get("score").is_some());
        if t["source"] == "auto" {
            assert!(t["score"].is_f64());
        } else {
            assert!(t["score"].is_null());
        }
    }
    // `tags show` is the same, by catalog id too.
    let id = s.json(&["info", &s.photo("a.jpg")])["id"].as_i64().unwrap();
    assert_eq!(s.json(&["tags", "show", &id.to_string()]), shown);

    // Corrections.
    let added = s.json(&["tag", "add", &s.photo("a.jpg"), "doggy"]);
    assert_eq!(added["tag"], "dog");
    let removed = s.json(&["tag", "remove", &s.photo("a.jpg"), "Beach"]);
    assert_eq!(
        (removed["tag"].as_str(), removed["was_on"].as_bool()),
        (Some("beach"), Some(true))
    );
    s.ok(&["tags", "retag", "--full"]);
    let a = s.tags("a.jpg");
    assert!(a.contains(&pair("dog", "user")));
    assert!(a.contains(&pair("paris 2019", "imported")));
    assert!(a.iter().all(|t| t.0 != "beach"));

    // Custom tag with an example.
    let custom = s.json(&[
        "tags",
        "custom",
        "add",
        "our red van",
        "--description",
        "a small red camper van",
        "--examples",
        &s.photo("d.jpg"),
    ]);
    assert_eq!(
        (custom["kind"].as_str(), custom["examples"].as_u64()),
        (Some("custom"), Some(1))
    );
    let r = s.json(&["tags", "retag"]);
    assert_eq!(r["prototypes_built"], 1);
    assert!(s.tags("d.jpg").contains(&pair("our red van", "user")));
    let listed = s.json(&["tags", "custom", "list"]);
    assert_eq!(listed[0]["tag"], "our red van");
    // Removing it stops auto-assignment; the user's own tag stays.
    assert_eq!(
        s.json(&["tags", "custom", "remove", "Our Red Van"])["removed"],
        true
    );
    let r = s.json(&["tags", "retag"]);
    assert_eq!(r["removed_concepts"], 1);
    assert!(s.tags("d.jpg").contains(&pair("our red van", "user")));
    for p in ["a.jpg", "b.jpg", "c.jpg"] {
        assert!(!s.tags(p).contains(&pair("our red van", "auto")));
    }
    assert!(s
        .json(&["tags", "custom", "list"])
        .as_array()
        .unwrap()
        .is_empty());
    assert!(!s
        .run(&["tags", "custom", "remove", "beach"])
        .status
        .success());

    // Counts.
    let counts = s.json(&["tags", "list"]);
    let beach = counts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tag"] == "beach")
        .unwrap();
    assert_eq!(beach["rejected"], 1);
    let dog = counts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tag"] == "dog")
        .unwrap();
    assert!(dog["user"].as_i64().unwrap() >= 1 && dog["imported"].as_i64().unwrap() >= 1);

    // The hierarchy.
    let vocab = s.json(&["tags", "vocab"]);
    let concepts = vocab.as_array().unwrap();
    assert!(concepts.iter().filter(|c| c["group"] == false).count() >= 500);
    let golden = concepts
        .iter()
        .find(|c| c["tag"] == "golden retriever")
        .unwrap();
    assert_eq!(golden["parents"][0], "dog");
    assert!(!golden["descriptions"].as_array().unwrap().is_empty());
    assert!(s.ok(&["tags", "vocab"]).contains("\n  Dog"));

    // Search by tag: user and imported tags match, rejected ones do not.
    let hits = s.json(&["search", "tag:dog", "--all"]);
    let paths: Vec<&str> = hits["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&s.photo("a.jpg").as_str()) && paths.contains(&s.photo("b.jpg").as_str())
    );
    let beach_hits = s.json(&["search", "tag:beach", "--all"]);
    assert!(beach_hits["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["path"] != s.photo("a.jpg").as_str()));

    // Errors a user can act on.
    let out = s.run(&["tags", &s.photo("a.jpg"), "--bogus"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"));
    let out = s.run(&["tags", "no-such-photo.jpg"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no photo matches"));
}

#[test]
fn xmp_sidecars_round_trip_through_exiftool() {
    let s = Shoebox::with_tiny_model();
    s.setup_tagging();
    // A sidecar written by another app, with fields Shoebox does not know.
    let a_side = s.photos.join("a.jpg.xmp");
    exiftool(&[
        "-q",
        "-XMP-dc:Title=Old title",
        "-XMP-xmp:Rating=4",
        "-XMP-dc:Subject=Family",
        a_side.to_str().unwrap(),
    ]);
    // A corrupt one next to b.jpg.
    let b_side = s.photos.join("b.jpg.xmp");
    std::fs::write(&b_side, "<x:xmpmeta><rdf:RDF><broken></x:xmpmeta>").unwrap();
    let originals: Vec<Vec<u8>> = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
        .iter()
        .map(|n| std::fs::read(s.photos.join(n)).unwrap())
        .collect();
    s.ok(&["scan"]);
    // The corrupt sidecar is a warning on the file, not a failure.
    let errors = s.json(&["errors"]);
    let warning = errors
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "warning")
        .unwrap_or_else(|| panic!("{errors}"));
    assert!(warning["reason"].as_str().unwrap().contains("b.jpg.xmp"));
    assert_eq!(s.tags("a.jpg"), [pair("family", "imported")]);
    s.ok(&["embed", "--no-tags"]);
    s.ok(&["tag", "add", &s.photo("a.jpg"), "golden retriever"]);
    s.ok(&["tag", "add", &s.photo("a.jpg"), "Paris 2019"]);
    s.ok(&["tag", "add", &s.photo("b.jpg"), "beach"]);
    s.ok(&["tag", "add", &s.photo("c.jpg"), "sunset"]);

    // Off by default: nothing was written yet.
    assert!(!s.photos.join("c.jpg.xmp").exists());
    let settings = s.json(&["tags", "xmp"]);
    assert_eq!(
        (
            settings["write_on_change"].as_bool(),
            settings["naming"].as_str()
        ),
        (Some(false), Some("append"))
    );

    // Dry run: a plan, no file touched.
    let before = std::fs::read(&a_side).unwrap();
    let plan = s.json(&["tags", "export-xmp", "--dry-run"]);
    assert_eq!(plan["dry_run"], true);
    assert!(strings(&plan["updated"]).contains(&a_side.to_str().unwrap().to_string()));
    assert!(strings(&plan["created"]).contains(&s.photo("c.jpg.xmp")));
    assert_eq!(std::fs::read(&a_side).unwrap(), before);
    assert!(!s.photos.join("c.jpg.xmp").exists());

    let done = s.json(&["tags", "export-xmp"]);
    assert_eq!(done["failed"].as_array().unwrap().len(), 1, "{done}");
    assert!(done["failed"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("b.jpg.xmp"));
    // The corrupt sidecar is left exactly as it was.
    assert_eq!(
        std::fs::read_to_string(&b_side).unwrap(),
        "<x:xmpmeta><rdf:RDF><broken></x:xmpmeta>"
    );
    // exiftool reads the keywords back, and the other app's fields survive.
    let a = exif_json(&a_side);
    let subjects = strings(&a["Subject"]);
    for k in ["Golden retriever", "Dog", "Paris 2019", "Family"] {
        assert!(subjects.contains(&k.to_string()), "{k} in {subjects:?}");
    }
    assert!(
        strings(&a["HierarchicalSubject"]).contains(&"Animals|Dog|Golden retriever".to_string()),
        "{a}"
    );
    assert!(
        strings(&a["TagsList"]).contains(&"Animals/Dog/Golden retriever".to_string()),
        "{a}"
    );
    assert_eq!(a["Title"], "Old title");
    assert_eq!(a["Rating"], 4);
    let c = exif_json(&s.photos.join("c.jpg.xmp"));
    assert!(
        strings(&c["Subject"]).contains(&"Sunset".to_string()),
        "{c}"
    );
    // Originals are never written.
    for (n, bytes) in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"].iter().zip(&originals) {
        assert_eq!(&std::fs::read(s.photos.join(n)).unwrap(), bytes, "{n}");
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&s.photos)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Exporting again changes nothing.
    let again = s.json(&["tags", "export-xmp"]);
    assert!(
        again["created"].as_array().unwrap().is_empty()
            && again["updated"].as_array().unwrap().is_empty(),
        "{again}"
    );

    // A removed tag leaves the sidecar too; the other app's keyword stays.
    s.ok(&["tag", "remove", &s.photo("a.jpg"), "Paris 2019"]);
    s.ok(&["tags", "export-xmp"]);
    let subjects = strings(&exif_json(&a_side)["Subject"]);
    assert!(
        !subjects.contains(&"Paris 2019".to_string()) && subjects.contains(&"Family".to_string())
    );

    // Lightroom naming, written as tags change.
    let settings = s.json(&[
        "tags",
        "xmp",
        "--write-on-change",
        "on",
        "--naming",
        "replace",
    ]);
    assert_eq!(
        (
            settings["write_on_change"].as_bool(),
            settings["naming"].as_str()
        ),
        (Some(true), Some("replace"))
    );
    s.ok(&["tag", "add", &s.photo("d.jpg"), "kite"]);
    let d = exif_json(&s.photos.join("d.xmp"));
    assert!(strings(&d["Subject"]).contains(&"Kite".to_string()), "{d}");
    let out = s.run(&["tags", "xmp", "--naming", "sideways"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("append"));
}

#[test]
fn eval_harness_runs_and_fits_a_calibration_file() {
    let s = Shoebox::with_tiny_model();
    s.setup_tagging();
    let dir = s.photos.clone();
    let labels = s.tmp.path().join("labels.csv");
    std::fs::write(
        &labels,
        "file,tags\na.jpg,dog\nb.jpg,dog;beach\nc.jpg,doggy\nd.jpg,receipt;no such tag\ngone.jpg,cat\n",
    )
    .unwrap();
    let r = s.json(&[
        "eval",
        "tags",
        "--labels",
        labels.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--fit",
    ]);
    // Plumbing only: the random-weight model's accuracy means nothing.
    assert_eq!(r["images"], 4);
    assert_eq!(r["skipped"][0]["file"], "gone.jpg");
    assert_eq!(r["unknown_labels"][0], "no such tag");
    assert!(r["concepts"].as_u64().unwrap() >= 500);
    for k in ["top1", "top5"] {
        let v = r[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{k} = {v}");
    }
    assert!(r["assigned"]["precision"].is_f64() && r["assigned"]["fn"].is_u64());
    // Dog has three labelled images, so a threshold was fitted and saved as
    // the library's calibration for the model.
    assert_eq!(r["calibration_fitted"], true);
    let path = PathBuf::from(r["calibration_path"].as_str().unwrap());
    let cal: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(cal["fitted"], true);
    assert!(cal["concepts"]["dog"]["threshold"].is_f64());
    // The eval added nothing to the library.
    assert_eq!(s.json(&["status"])["photos"], 0);
    // Re-tagging runs with the fitted file in place.
    s.ok(&["scan"]);
    s.ok(&["embed"]);
}
