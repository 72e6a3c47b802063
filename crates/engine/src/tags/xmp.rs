//! Keywords in and out of XMP: reading `dc:subject`,
//! `lr:hierarchicalSubject` and `digiKam:TagsList` from sidecars and from
//! XMP packets embedded in image files, IPTC keywords from JPEG APP13, and
//! writing sidecars that keep everything else they held.
//!
//! Originals are never written. Sidecars are written atomically (a
//! temporary file in the same folder, then a rename). Bad input is an
//! `Err(reason)`, never a panic.

use std::borrow::Cow;
use std::path::Path;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use serde::Serialize;

use super::vocab::tag_key;
use crate::error::{EngineError, Result};

const NS_DC: &str = "http://purl.org/dc/elements/1.1/";
const NS_LR: &str = "http://ns.adobe.com/lightroom/1.0/";
const NS_DIGIKAM: &str = "http://www.digikam.org/ns/1.0/";
const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The keyword properties Shoebox reads and writes (by their customary
/// prefixes, which every XMP writer we know uses).
const SUBJECT: &[u8] = b"dc:subject";
const HIERARCHICAL: &[u8] = b"lr:hierarchicalSubject";
const DIGIKAM_TAGS: &[u8] = b"digiKam:TagsList";

pub use crate::sidecar::{sidecar_candidates, SidecarNaming};

/// Keywords kept per photo (from all its sources together); a file with
/// more is a mistake or an attack, and the rest are dropped with a warning.
pub const MAX_KEYWORDS: usize = 1000;
/// The largest sidecar read; real ones are a few KiB.
pub const MAX_SIDECAR_BYTES: u64 = 1 << 20;

/// Keywords as found, each once by tag key, in their display form.
#[derive(Debug, Default)]
pub struct Keywords {
    names: Vec<String>,
    keys: std::collections::HashSet<String>,
    /// Keywords dropped past [`MAX_KEYWORDS`].
    dropped: usize,
}

impl Keywords {
    pub fn push(&mut self, raw: &str) {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() || name.chars().count() > 200 {
            return;
        }
        let key = tag_key(&name);
        if key.is_empty() || self.keys.contains(&key) {
            return;
        }
        if self.names.len() >= MAX_KEYWORDS {
            self.dropped += 1;
            return;
        }
        self.keys.insert(key);
        self.names.push(name);
    }

    /// The keywords, and a warning when some were dropped.
    pub fn finish(self) -> (Vec<String>, Option<String>) {
        let warning = (self.dropped > 0).then(|| {
            format!(
                "{} more keywords than the {MAX_KEYWORDS} kept per photo were ignored",
                self.dropped
            )
        });
        (self.names, warning)
    }
}

/// The raw items of the three keyword properties of an XMP document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeywordProperties {
    pub subject: Vec<String>,
    pub hierarchical: Vec<String>,
    pub digikam: Vec<String>,
}

/// Reads the keyword properties of an XMP document.
pub fn read_properties(xml: &str) -> std::result::Result<KeywordProperties, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut out = KeywordProperties::default();
    let mut within: Option<&'static [u8]> = None;
    let mut in_li = false;
    let mut text = String::new();
    let mut saw_root = false;
    loop {
        match reader.read_event() {
            Err(e) => {
                return Err(format!(
                    "not valid XMP (XML error at byte {}: {e})",
                    reader.buffer_position()
                ))
            }
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                saw_root = true;
                let name = e.name();
                if within.is_none() {
                    within = [SUBJECT, HIERARCHICAL, DIGIKAM_TAGS]
                        .into_iter()
                        .find(|p| *p == name.as_ref());
                } else if name.as_ref() == b"rdf:li" {
                    in_li = true;
                    text.clear();
                }
            }
            Ok(Event::Empty(_)) => saw_root = true,
            Ok(Event::Text(t)) if in_li => {
                let s = t.unescape().map_err(|e| format!("not valid XMP: {e}"))?;
                text.push_str(&s);
            }
            Ok(Event::CData(t)) if in_li => {
                text.push_str(&String::from_utf8_lossy(&t));
            }
            Ok(Event::End(e)) => {
                let name = e.name();
                if in_li && name.as_ref() == b"rdf:li" {
                    in_li = false;
                    let list = match within {
                        Some(p) if p == SUBJECT => &mut out.subject,
                        Some(p) if p == HIERARCHICAL => &mut out.hierarchical,
                        Some(_) => &mut out.digikam,
                        None => continue,
                    };
                    list.push(std::mem::take(&mut text));
                } else if within.is_some_and(|w| w == name.as_ref()) {
                    within = None;
                }
            }
            Ok(_) => {}
        }
    }
    if !saw_root {
        return Err("not valid XMP: no XML elements".into());
    }
    Ok(out)
}

/// Keywords in an XMP document: `dc:subject` items, and the leaves of
/// `lr:hierarchicalSubject` (`A|B|C`) and `digiKam:TagsList` (`A/B/C`),
/// each once (compared by tag key).
pub fn read_keywords(xml: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Keywords::default();
    push_properties(&mut out, &read_properties(xml)?);
    Ok(out.finish().0)
}

fn push_properties(out: &mut Keywords, props: &KeywordProperties) {
    for k in &props.subject {
        out.push(k);
    }
    for k in &props.hierarchical {
        out.push(k.rsplit('|').next().unwrap_or(""));
    }
    for k in &props.digikam {
        out.push(k.rsplit('/').next().unwrap_or(""));
    }
}

/// A sidecar's text, read safely: `Ok(None)` when there is no such file.
fn read_sidecar_text(path: &Path) -> std::result::Result<Option<String>, String> {
    let bytes = match crate::regular_file::read(path, MAX_SIDECAR_BYTES) {
        Ok(b) => b,
        Err(crate::regular_file::Refusal::NotFound) => return Ok(None),
        Err(crate::regular_file::Refusal::TooLarge(n)) => {
            return Err(format!(
                "the sidecar {} is larger than 1 MiB ({n} bytes); its keywords were not read",
                path.display()
            ))
        }
        Err(e) => return Err(format!("the sidecar {} is {e}", path.display())),
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the sidecar {} is not UTF-8 text", path.display()))?;
    Ok(Some(text))
}

/// Reads a sidecar's keyword properties; `Ok(None)` when there is no such
/// file.
fn read_sidecar_properties(path: &Path) -> std::result::Result<Option<KeywordProperties>, String> {
    let Some(text) = read_sidecar_text(path)? else {
        return Ok(None);
    };
    read_properties(text.trim_start_matches('\u{feff}'))
        .map(Some)
        .map_err(|e| format!("the sidecar {}: is {e}", path.display()))
}

/// Reads a sidecar's keywords; `Ok(None)` when there is no such file.
pub fn read_sidecar(path: &Path) -> std::result::Result<Option<Vec<String>>, String> {
    Ok(read_sidecar_properties(path)?.map(|props| {
        let mut out = Keywords::default();
        push_properties(&mut out, &props);
        out.finish().0
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The XMP packet embedded in an image file's bytes, if any.
pub fn embedded_packet(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let start = find(bytes, b"<x:xmpmeta")?;
    let end_tag = b"</x:xmpmeta>";
    let end = find(&bytes[start..], end_tag)? + start + end_tag.len();
    Some(String::from_utf8_lossy(&bytes[start..end]))
}

/// IPTC keywords (record 2, dataset 25) from a JPEG's Photoshop APP13
/// segment. Anything malformed ends the search quietly.
pub fn iptc_keywords(bytes: &[u8]) -> Vec<String> {
    let mut out = Keywords::default();
    push_iptc(bytes, &mut out);
    out.finish().0
}

fn push_iptc(bytes: &[u8], out: &mut Keywords) {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return;
    }
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        if marker == 0xDA || marker == 0xD9 {
            break; // start of scan: no more metadata segments
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        let Some(seg) = bytes.get(i + 4..i + 2 + len) else {
            break;
        };
        if marker == 0xED {
            if let Some(rest) = seg.strip_prefix(b"Photoshop 3.0\0") {
                iptc_from_irb(rest, out);
            }
        }
        i += 2 + len;
    }
}

fn iptc_from_irb(mut irb: &[u8], out: &mut Keywords) {
    while irb.len() >= 12 && &irb[..4] == b"8BIM" {
        let id = u16::from_be_bytes([irb[4], irb[5]]);
        let name_len = irb[6] as usize;
        let name_total = (1 + name_len + 1) & !1; // padded to even
        let Some(size_at) = irb.get(6 + name_total..6 + name_total + 4) else {
            return;
        };
        let size = u32::from_be_bytes([size_at[0], size_at[1], size_at[2], size_at[3]]) as usize;
        let data_at = 6 + name_total + 4;
        let Some(data) = irb.get(data_at..data_at + size) else {
            return;
        };
        if id == 0x0404 {
            let mut d = data;
            while d.len() >= 5 && d[0] == 0x1C {
                let (record, dataset) = (d[1], d[2]);
                let n = u16::from_be_bytes([d[3], d[4]]);
                if n & 0x8000 != 0 {
                    break; // extended length: not used for keywords
                }
                let Some(value) = d.get(5..5 + n as usize) else {
                    break;
                };
                if record == 2 && dataset == 25 {
                    out.push(&String::from_utf8_lossy(value));
                }
                d = &d[5 + n as usize..];
            }
        }
        let next = data_at + size + (size & 1);
        irb = irb.get(next..).unwrap_or(&[]);
    }
}

/// Keywords a file carries: embedded XMP and IPTC (from `bytes`, already
/// in memory) and both sidecars. Problems are returned as warnings; what
/// could be read is still returned.
pub fn file_keywords(path: &Path, bytes: Option<&[u8]>) -> (Vec<String>, Vec<String>) {
    let mut out = Keywords::default();
    let mut warnings = Vec::new();
    if let Some(bytes) = bytes {
        if let Some(packet) = embedded_packet(bytes) {
            match read_properties(&packet) {
                Ok(props) => push_properties(&mut out, &props),
                Err(e) => warnings.push(format!("embedded XMP is {e}")),
            }
        }
        push_iptc(bytes, &mut out);
    }
    for sidecar in sidecar_candidates(path) {
        match read_sidecar_properties(&sidecar) {
            Ok(Some(props)) => push_properties(&mut out, &props),
            Ok(None) => {}
            Err(e) => warnings.push(e),
        }
    }
    let (keywords, dropped) = out.finish();
    warnings.extend(dropped);
    (keywords, warnings)
}

/// The keywords to write for one photo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeywordSet {
    /// Flat keywords (`dc:subject`).
    pub subjects: Vec<String>,
    /// Paths from the root, e.g. `["Animals", "Dog"]`.
    pub paths: Vec<Vec<String>>,
}

impl KeywordSet {
    /// The property items this set writes.
    pub fn properties(&self) -> KeywordProperties {
        KeywordProperties {
            subject: self.subjects.clone(),
            hierarchical: self.paths.iter().map(|p| p.join("|")).collect(),
            digikam: self.paths.iter().map(|p| p.join("/")).collect(),
        }
    }
}

fn write_bag<W: std::io::Write>(
    w: &mut Writer<W>,
    property: &str,
    container: &str,
    items: &[String],
) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(property)))?;
    w.write_event(Event::Start(BytesStart::new(container)))?;
    for item in items {
        w.write_event(Event::Start(BytesStart::new("rdf:li")))?;
        w.write_event(Event::Text(BytesText::new(item)))?;
        w.write_event(Event::End(BytesEnd::new("rdf:li")))?;
    }
    w.write_event(Event::End(BytesEnd::new(container)))?;
    w.write_event(Event::End(BytesEnd::new(property)))?;
    Ok(())
}

fn write_keywords<W: std::io::Write>(w: &mut Writer<W>, set: &KeywordSet) -> std::io::Result<()> {
    let p = set.properties();
    write_bag(w, "dc:subject", "rdf:Bag", &p.subject)?;
    write_bag(w, "lr:hierarchicalSubject", "rdf:Bag", &p.hierarchical)?;
    write_bag(w, "digiKam:TagsList", "rdf:Seq", &p.digikam)
}

fn with_namespaces(start: &BytesStart) -> BytesStart<'static> {
    let mut out = start.to_owned();
    let has = |prefix: &str| {
        start
            .attributes()
            .flatten()
            .any(|a| a.key.as_ref() == format!("xmlns:{prefix}").as_bytes())
    };
    for (prefix, ns) in [("dc", NS_DC), ("lr", NS_LR), ("digiKam", NS_DIGIKAM)] {
        if !has(prefix) {
            out.push_attribute((format!("xmlns:{prefix}").as_str(), ns));
        }
    }
    out
}

fn xml_err(e: impl std::fmt::Display) -> String {
    format!("not valid XMP: {e}")
}

/// A new sidecar holding only the keywords.
pub fn new_sidecar(set: &KeywordSet) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    let result: std::io::Result<()> = (|| {
        w.get_mut().extend_from_slice(
            b"<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n",
        );
        let mut meta = BytesStart::new("x:xmpmeta");
        meta.push_attribute(("xmlns:x", "adobe:ns:meta/"));
        meta.push_attribute(("x:xmptk", "Shoebox"));
        w.write_event(Event::Start(meta))?;
        let mut rdf = BytesStart::new("rdf:RDF");
        rdf.push_attribute(("xmlns:rdf", NS_RDF));
        w.write_event(Event::Start(rdf))?;
        let mut desc = BytesStart::new("rdf:Description");
        desc.push_attribute(("rdf:about", ""));
        w.write_event(Event::Start(with_namespaces(&desc)))?;
        write_keywords(&mut w, set)?;
        w.write_event(Event::End(BytesEnd::new("rdf:Description")))?;
        w.write_event(Event::End(BytesEnd::new("rdf:RDF")))?;
        w.write_event(Event::End(BytesEnd::new("x:xmpmeta")))?;
        w.get_mut().extend_from_slice(b"\n<?xpacket end=\"w\"?>\n");
        Ok(())
    })();
    result.expect("writing to memory cannot fail");
    String::from_utf8(w.into_inner()).expect("XML written from strings is UTF-8")
}

/// `existing` with its keyword properties replaced by `set`; every other
/// element, attribute, comment and processing instruction is kept. The
/// keywords go into the first `rdf:Description`.
pub fn merge_sidecar(existing: &str, set: &KeywordSet) -> std::result::Result<String, String> {
    let mut reader = Reader::from_str(existing);
    let mut w = Writer::new(Vec::new());
    let mut skip_depth = 0usize;
    let mut injected = false;
    let mut saw_rdf = false;
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        if skip_depth > 0 {
            match event {
                Event::Start(_) => skip_depth += 1,
                Event::End(_) => skip_depth -= 1,
                Event::Eof => return Err(xml_err("unexpected end of file")),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Eof => break,
            Event::Start(e)
                if [SUBJECT, HIERARCHICAL, DIGIKAM_TAGS].contains(&e.name().as_ref()) =>
            {
                skip_depth = 1;
            }
            Event::Empty(e)
                if [SUBJECT, HIERARCHICAL, DIGIKAM_TAGS].contains(&e.name().as_ref()) => {}
            Event::Start(e) if e.name().as_ref() == b"rdf:RDF" => {
                saw_rdf = true;
                w.write_event(Event::Start(e)).map_err(xml_err)?;
            }
            Event::Start(e) if !injected && e.name().as_ref() == b"rdf:Description" => {
                injected = true;
                w.write_event(Event::Start(with_namespaces(&e)))
                    .map_err(xml_err)?;
                write_keywords(&mut w, set).map_err(xml_err)?;
            }
            Event::Empty(e) if !injected && e.name().as_ref() == b"rdf:Description" => {
                injected = true;
                w.write_event(Event::Start(with_namespaces(&e)))
                    .map_err(xml_err)?;
                write_keywords(&mut w, set).map_err(xml_err)?;
                w.write_event(Event::End(BytesEnd::new("rdf:Description")))
                    .map_err(xml_err)?;
            }
            Event::End(e) if !injected && e.name().as_ref() == b"rdf:RDF" => {
                injected = true;
                let mut desc = BytesStart::new("rdf:Description");
                desc.push_attribute(("rdf:about", ""));
                w.write_event(Event::Start(with_namespaces(&desc)))
                    .map_err(xml_err)?;
                write_keywords(&mut w, set).map_err(xml_err)?;
                w.write_event(Event::End(BytesEnd::new("rdf:Description")))
                    .map_err(xml_err)?;
                w.write_event(Event::End(e)).map_err(xml_err)?;
            }
            other => w.write_event(other).map_err(xml_err)?,
        }
    }
    if !saw_rdf || !injected {
        return Err("not valid XMP: no rdf:RDF element".into());
    }
    String::from_utf8(w.into_inner()).map_err(xml_err)
}

/// Writes `bytes` to `path` through a temporary file in the same folder
/// and a rename, so a reader sees the old or the new file, never half.
/// An existing file's permissions are kept.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| EngineError::io(format!("cannot create {}", dir.display()), e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".shoebox-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| EngineError::io(format!("cannot write in {}", dir.display()), e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| EngineError::io(format!("cannot write {}", path.display()), e))?;
    let perms = match std::fs::metadata(path) {
        Ok(m) => Some(m.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(perms) = perms {
        let _ = std::fs::set_permissions(tmp.path(), perms);
    }
    tmp.persist(path)
        .map_err(|e| EngineError::io(format!("cannot replace {}", path.display()), e.error))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

/// What writing one sidecar did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SidecarAction {
    Created,
    Updated,
    Unchanged,
}

/// Writes (or, with `dry_run`, only plans) the sidecar `path` so that it
/// holds `set`, keeping the rest of an existing sidecar. A sidecar that
/// cannot be read or parsed is left alone and reported.
pub fn sync_sidecar(
    path: &Path,
    set: &KeywordSet,
    dry_run: bool,
) -> std::result::Result<SidecarAction, String> {
    let (text, action) = match read_sidecar_text(path) {
        Ok(Some(existing)) => {
            let merged = merge_sidecar(&existing, set)
                .map_err(|e| format!("{} is {e}; left as it is", path.display()))?;
            if read_properties(&existing).ok() == Some(set.properties()) {
                return Ok(SidecarAction::Unchanged);
            }
            (merged, SidecarAction::Updated)
        }
        Ok(None) => (new_sidecar(set), SidecarAction::Created),
        Err(e) => return Err(format!("{e}; left as it is")),
    };
    if !dry_run {
        write_atomically(path, text.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> KeywordSet {
        KeywordSet {
            subjects: words.iter().map(|s| s.to_string()).collect(),
            paths: words
                .iter()
                .map(|s| vec!["Top".into(), s.to_string()])
                .collect(),
        }
    }

    #[test]
    fn new_sidecar_reads_back() {
        let xml = new_sidecar(&set(&["Beach", "R&D <x>"]));
        assert_eq!(read_keywords(&xml).unwrap(), ["Beach", "R&D <x>"]);
    }

    #[test]
    fn merge_keeps_other_content_and_replaces_keywords() {
        let existing = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<!-- a comment -->
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">
<dc:subject><rdf:Bag><rdf:li>old</rdf:li></rdf:Bag></dc:subject>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Title</rdf:li></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let merged = merge_sidecar(existing, &set(&["new"])).unwrap();
        assert_eq!(read_keywords(&merged).unwrap(), ["new"]);
        assert!(merged.contains("xmp:Rating=\"4\""));
        assert!(merged.contains("<!-- a comment -->"));
        assert!(merged.contains("<dc:title>"));
        assert_eq!(merged.matches("xmlns:dc=").count(), 1);
    }

    #[test]
    fn corrupt_xmp_is_an_error_not_a_panic() {
        assert!(read_keywords("<x:xmpmeta><rdf:RDF></x:xmpmeta>").is_err());
        assert!(read_keywords("just text").is_err());
        assert!(merge_sidecar("<a></b>", &set(&["x"])).is_err());
        assert!(merge_sidecar("<a/>", &set(&["x"])).is_err());
    }

    #[test]
    fn iptc_keywords_are_read() {
        let mut iptc = Vec::new();
        for k in ["dog", "Paris"] {
            iptc.extend_from_slice(&[0x1C, 2, 25, 0, k.len() as u8]);
            iptc.extend_from_slice(k.as_bytes());
        }
        let mut irb = b"8BIM\x04\x04\x00\x00".to_vec();
        irb.extend_from_slice(&(iptc.len() as u32).to_be_bytes());
        irb.extend_from_slice(&iptc);
        let mut seg = b"Photoshop 3.0\0".to_vec();
        seg.extend_from_slice(&irb);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xED];
        jpeg.extend_from_slice(&((seg.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(&seg);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(iptc_keywords(&jpeg), ["dog", "Paris"]);
        assert!(iptc_keywords(&jpeg[..jpeg.len() - 8]).is_empty());
    }
}
