//! A bounded, deterministic mutation fuzzer over every parser that reads
//! what users' files contain: the image decoders (through the same sniff →
//! decodable → reduced decode path as a scan), the PNG side-channel check,
//! EXIF, XMP (sidecar and embedded), IPTC, RAW previews and the search
//! query parser. None may panic; each must return within its limits.
//!
//! The corpus is real files (the cc0 fixtures, the format samples of
//! `../shared/fixtures/formats` when present) and the crafted hostile
//! inputs of issue 22. Mutations: bit flips, interesting byte values,
//! truncation, duplicated and deleted spans, splices of two inputs, and
//! rewritten length fields. CI runs a bounded number of iterations per
//! target (seeded, so a failure reproduces); `SHOEBOX_FUZZ_ITERS` runs more.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use shoebox_engine::ingest::{decode, format, metadata, raw};
use shoebox_engine::tags::xmp;
use support::*;

fn iterations() -> usize {
    std::env::var("SHOEBOX_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

const INTERESTING: [u8; 8] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x10, 0x40];

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            v.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(v.len());
        match rng.below(8) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => v[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 => v.truncate(at),
            3 => {
                let len = rng.below(64).min(v.len() - at);
                let span = v[at..at + len].to_vec();
                let to = rng.below(v.len());
                v.splice(to..to, span);
            }
            4 => {
                let len = rng.below(64).min(v.len() - at);
                v.drain(at..at + len);
            }
            5 => {
                // Splice: the head of one input, the tail of another.
                let cut = rng.below(other.len());
                v.truncate(at);
                v.extend_from_slice(&other[cut..]);
            }
            6 => {
                // A length or dimension field set to something absurd.
                let big = [0xFFu8, 0xFF, 0xFF, 0x7F];
                for (i, b) in big.iter().enumerate() {
                    if let Some(x) = v.get_mut(at + i) {
                        *x = *b;
                    }
                }
            }
            _ => {
                for _ in 0..rng.below(16) {
                    let to = rng.below(v.len() + 1);
                    v.insert(to, rng.next() as u8);
                }
            }
        }
    }
    v
}

/// Runs `target` on the corpus and on mutations of it; a panic fails the
/// test with the seed and the input's size.
fn fuzz(name: &str, seed: u64, corpus: &[Vec<u8>], target: impl Fn(&[u8])) {
    assert!(!corpus.is_empty());
    let mut rng = Rng(seed);
    let run = |input: &[u8], what: &str| {
        if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
            let dump = std::env::temp_dir().join(format!("shoebox-fuzz-{name}.bin"));
            let _ = std::fs::write(&dump, input);
            panic!(
                "{name}: panicked on {what} ({} bytes, saved to {})",
                input.len(),
                dump.display()
            );
        }
    };
    for (i, c) in corpus.iter().enumerate() {
        run(c, &format!("corpus item {i}"));
    }
    for i in 0..iterations() {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, a, b);
        run(&input, &format!("iteration {i} of seed {seed:#x}"));
    }
}

fn files_in(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "LICENSES" && n != "video")
            {
                files_in(&p, out);
            }
        } else if e.metadata().is_ok_and(|m| m.len() <= 3 << 20)
            && p.extension().is_some_and(|x| x != "md" && x != "txt")
        {
            if let Ok(b) = std::fs::read(&p) {
                out.push(b);
            }
        }
    }
}

fn image_corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let small = synthetic(48, 32, 3);
    out.push(encode_jpeg(&small, 90));
    for f in [
        image::ImageFormat::Png,
        image::ImageFormat::Gif,
        image::ImageFormat::WebP,
        image::ImageFormat::Tiff,
        image::ImageFormat::Bmp,
    ] {
        out.push(encode(&image::DynamicImage::ImageRgb8(small.clone()), f));
    }
    out.push(jpeg_with_exif(
        &small,
        &ExifSpec {
            date: Some("2021:06:01 10:00:00"),
            make: Some("Canon"),
            gps: Some((38.7, -9.1)),
            orientation: Some(6),
            ..Default::default()
        },
    ));
    out.push(png_bomb(100_000, 100_000));
    out.push(jpeg_bomb(60_000, 60_000));
    out.push(fake_raw_with_preview(&encode_jpeg(&small, 80)));
    let png = out[1].clone();
    let mut iccp = b"icc\0\0".to_vec();
    iccp.extend(miniz_oxide::deflate::compress_to_vec_zlib(
        &vec![0u8; 4 << 20],
        6,
    ));
    out.push(png_with_chunk(&png, b"iCCP", &iccp));
    // Two real photos keep the runs fast; the format samples add variety.
    for name in ["rocket.jpg", "coins.png"] {
        out.push(std::fs::read(cc0_dir().join(name)).unwrap());
    }
    files_in(&repo_root().join("../shared/fixtures/formats"), &mut out);
    out
}

/// Everything a scan does with a file's bytes, minus the disk and catalog.
fn analyse(bytes: &[u8]) {
    let path = Path::new("fuzz.jpg");
    let head = &bytes[..bytes.len().min(format::SNIFF_LEN)];
    let Some(fmt) = format::sniff(head, path) else {
        return;
    };
    let _ = metadata::read(bytes);
    let _ = metadata::read_jxl(bytes);
    let _ = xmp::iptc_keywords(bytes);
    if let Some(packet) = xmp::embedded_packet(bytes) {
        let _ = xmp::read_keywords(&packet);
    }
    let Ok((data, data_fmt)) = decode::decodable(bytes, fmt) else {
        return;
    };
    if let Ok(d) = decode::decode_reduced(data, data_fmt, decode::WORKING_EDGE) {
        let upright = decode::apply_orientation(d.image, 6);
        let _ = shoebox_engine::ingest::quality::content(&upright, 6, d.width, d.height, "jpeg");
        let _ = shoebox_engine::ingest::phash::crop_hashes(&upright);
    }
}

#[test]
fn image_decoders_and_metadata_readers_never_panic() {
    fuzz("image", 0x5EED_0001, &image_corpus(), analyse);
}

/// A few hundred mutations of each new format's real samples
/// (tests/fixtures/formats), through the same path as a scan.
#[test]
fn heif_avif_and_jpeg_xl_decoders_never_panic() {
    for (i, ext) in ["heic", "avif", "jxl"].into_iter().enumerate() {
        let mut corpus = Vec::new();
        for e in std::fs::read_dir(repo_root().join("tests/fixtures/formats")).unwrap() {
            let p = e.unwrap().path();
            let small = p.metadata().is_ok_and(|m| m.len() <= 1 << 20);
            if small && p.extension().is_some_and(|x| x == ext) {
                corpus.push(std::fs::read(&p).unwrap());
            }
        }
        fuzz(ext, 0x5EED_0010 + i as u64, &corpus, analyse);
    }
}

#[test]
fn png_side_channel_check_never_panics() {
    let corpus: Vec<Vec<u8>> = image_corpus()
        .into_iter()
        .filter(|b| b.starts_with(b"\x89PNG"))
        .collect();
    fuzz("png", 0x5EED_0002, &corpus, |b| {
        let _ = decode::check_png_side_channels(b);
    });
}

#[test]
fn raw_preview_finder_never_panics() {
    let corpus = image_corpus();
    fuzz("raw", 0x5EED_0003, &corpus, |b| {
        for kind in ["nef", "cr2", "dng", "raf", "arw", "rw2", "cr3"] {
            let _ = raw::embedded_preview(b, kind);
        }
    });
}

fn xmp_corpus() -> Vec<Vec<u8>> {
    let mut many = String::from(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/"><dc:subject><rdf:Bag>"#,
    );
    for i in 0..50 {
        many.push_str(&format!("<rdf:li>k{i} &amp; <![CDATA[x]]></rdf:li>"));
    }
    many.push_str("</rdf:Bag></dc:subject><lr:hierarchicalSubject><rdf:Bag><rdf:li>A|B|C</rdf:li></rdf:Bag></lr:hierarchicalSubject><digiKam:TagsList><rdf:Seq><rdf:li>A/B</rdf:li></rdf:Seq></digiKam:TagsList></rdf:Description></rdf:RDF></x:xmpmeta>");
    vec![
        many.into_bytes(),
        b"<?xpacket begin='\xef\xbb\xbf'?><x:xmpmeta/>".to_vec(),
        b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]><x>&b;</x>"
            .to_vec(),
        b"<a><b><c><d><e><f></f></e></d></c></b></a>".to_vec(),
    ]
}

#[test]
fn xmp_readers_never_panic() {
    let corpus = xmp_corpus();
    fuzz("xmp", 0x5EED_0004, &corpus, |b| {
        let text = String::from_utf8_lossy(b);
        let _ = xmp::read_keywords(&text);
        if let Ok(merged) = xmp::merge_sidecar(&text, &xmp::KeywordSet::default()) {
            let _ = xmp::read_properties(&merged);
        }
    });
}

#[test]
fn query_parser_never_panics() {
    let corpus: Vec<Vec<u8>> = [
        "kids on a beach at sunset",
        "dog -cat in:2019 after:2020-01-01 before:\"last week\" camera:canon type:png",
        "like:12 \"red car\" or not snow",
        "taken:2019-02-30 between 3 and 4 ((( )))",
        "tag:\"our cat Chelsea\" place:\"Rome\" min:0.5",
        "\u{1F600} émoji ünïcode 日本語 -\"\"",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    fuzz("query", 0x5EED_0005, &corpus, |b| {
        let _ = shoebox_engine::query::parse(&String::from_utf8_lossy(b), today);
    });
}
