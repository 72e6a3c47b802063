//! Building the groups of every tier from the catalog's photos (a pure
//! function: photos, vectors and decisions in, groups out).

use std::collections::{HashMap, HashSet};

use super::hashindex::{self, Hash256, MultiIndex};
use super::unionfind::UnionFind;
use super::{suggest, Group, GroupKind, Member, Params, Tier};
use crate::catalog::{hex, DupeDecision, DupePhoto};

type Pair = (u32, u32);

fn pair(a: usize, b: usize) -> Pair {
    if a < b {
        (a as u32, b as u32)
    } else {
        (b as u32, a as u32)
    }
}

/// Pairs the user said are not duplicates (or kept all), per tier, plus
/// photos whose byte-identical copies the user keeps.
struct Decided {
    pairs: HashMap<&'static str, HashSet<Pair>>,
    keep_copies: HashSet<[u8; 32]>,
}

impl Decided {
    fn new(decisions: &[DupeDecision], index_of: &HashMap<[u8; 32], usize>) -> Self {
        let mut pairs: HashMap<&'static str, HashSet<Pair>> = HashMap::new();
        let mut keep_copies = HashSet::new();
        for d in decisions {
            let tier = match d.tier.as_str() {
                "exact" => "exact",
                "near" => "near",
                "similar" => "similar",
                "copies" => {
                    keep_copies.extend(d.hashes.iter().copied());
                    continue;
                }
                _ => continue,
            };
            let idx: Vec<usize> = d
                .hashes
                .iter()
                .filter_map(|h| index_of.get(h).copied())
                .collect();
            let set = pairs.entry(tier).or_default();
            for (k, &a) in idx.iter().enumerate() {
                for &b in &idx[k + 1..] {
                    set.insert(pair(a, b));
                }
            }
        }
        Decided { pairs, keep_copies }
    }

    fn contains(&self, tier: Tier, p: Pair) -> bool {
        self.pairs
            .get(tier.as_str())
            .is_some_and(|set| set.contains(&p))
    }
}

/// The tier of a group id made by [`group_id`] (copies are exact).
pub fn tier_of_id(id: &str) -> Option<Tier> {
    match id.chars().next()? {
        'c' | 'x' => Some(Tier::Exact),
        'n' => Some(Tier::Near),
        's' => Some(Tier::Similar),
        _ => None,
    }
}

fn group_id(tier: Tier, kind: GroupKind, hashes: &mut [[u8; 32]]) -> String {
    hashes.sort_unstable();
    let mut h = blake3::Hasher::new();
    h.update(tier.as_str().as_bytes());
    h.update(match kind {
        GroupKind::Copies => b"copies",
        GroupKind::Photos => b"photos",
    });
    for x in hashes.iter() {
        h.update(x);
    }
    let prefix = match (tier, kind) {
        (_, GroupKind::Copies) => 'c',
        (Tier::Exact, _) => 'x',
        (Tier::Near, _) => 'n',
        (Tier::Similar, _) => 's',
    };
    format!("{prefix}{}", &h.finalize().to_hex()[..11])
}

fn photo_member(p: &DupePhoto) -> Member {
    Member {
        id: p.id,
        photo_id: p.id,
        path: p
            .files
            .first()
            .map(|f| f.display.clone())
            .unwrap_or_default(),
        paths: p.files.iter().map(|f| f.display.clone()).collect(),
        width: p.width,
        height: p.height,
        bytes: p.files.first().map_or(0, |f| f.size),
        taken_at: p.taken_at.clone(),
        hash: hex(&p.hash),
        keep: false,
    }
}

fn timestamp(p: &DupePhoto) -> Option<i64> {
    p.taken_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|d| d.timestamp())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Whether two photos are one shot saved twice by the camera: a RAW and a
/// JPEG/HEIF with the same name stem in the same folder, taken at the same
/// time. Like a Live Photo's parts, they are one item, not duplicates.
fn raw_companions(a: &DupePhoto, b: &DupePhoto) -> bool {
    let is_raw = |p: &DupePhoto| p.format.starts_with("raw");
    if is_raw(a) == is_raw(b) || a.taken_at.is_none() || a.taken_at != b.taken_at {
        return false;
    }
    let stem = |f: &crate::catalog::DupeFile| {
        (
            f.path.parent().map(|p| p.to_path_buf()),
            f.path
                .file_stem()
                .map(|s| s.to_string_lossy().to_lowercase()),
        )
    };
    a.files
        .iter()
        .any(|fa| b.files.iter().any(|fb| stem(fa) == stem(fb)))
}

/// Checks a crop match on the pixels: is `whole` (all of it) the same
/// picture as region `region` (an index into `ingest::phash::crop_regions`)
/// of `source`? Hashes only sample a few hundred points, so two unrelated
/// pictures with similar layouts can match; the pixels decide.
pub type CropCheck<'a> = &'a (dyn Fn(&DupePhoto, &DupePhoto, usize) -> bool + Sync);

/// Edges of every tier, before union-find.
#[derive(Default)]
pub struct Edges {
    pub exact: HashSet<Pair>,
    pub near: HashSet<Pair>,
    /// Near pairs found through a region hash (one is a crop of the other).
    pub crops: HashSet<Pair>,
    /// Near pairs that needed the embedding.
    pub confirmed: HashSet<Pair>,
    pub similar: HashSet<Pair>,
}

impl Edges {
    /// Whether a near-tier pair rests on the image embedding (similar look,
    /// not matching pixels or hashes).
    pub fn uncertain(&self, p: Pair) -> bool {
        self.confirmed.contains(&p)
    }
}

/// Computes the pairs of each tier (exposed for the evaluation example).
pub fn edges(
    photos: &[DupePhoto],
    vectors: Option<&HashMap<i64, Vec<f32>>>,
    decisions: &[DupeDecision],
    params: &Params,
    only: Option<Tier>,
    crop_check: Option<CropCheck>,
) -> Edges {
    let index_of: HashMap<[u8; 32], usize> = photos
        .iter()
        .enumerate()
        .map(|(i, p)| (p.hash, i))
        .collect();
    let decided = Decided::new(decisions, &index_of);
    let mut e = Edges::default();

    // A picture without enough content (a placeholder preview, a blank or
    // partly decoded image) hashes like any other bare picture: it never
    // pairs except as a byte-identical copy of itself.
    let comparable = |i: usize| photos[i].lacks_content.is_none();
    let companions = |a: usize, b: usize| raw_companions(&photos[a], &photos[b]);

    // Exact: identical decoded pixels.
    let mut by_pixels: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
    for (i, p) in photos.iter().enumerate().filter(|(i, _)| comparable(*i)) {
        if let Some(px) = p.pixel_hash {
            by_pixels.entry(px).or_default().push(i);
        }
    }
    for class in by_pixels.values().filter(|c| c.len() > 1) {
        for (k, &a) in class.iter().enumerate() {
            for &b in &class[k + 1..] {
                let p = pair(a, b);
                if !decided.contains(Tier::Exact, p) && !companions(a, b) {
                    e.exact.insert(p);
                }
            }
        }
    }
    // Exact groups need nothing weaker: no hash search, no crop check, no
    // embeddings (finding one exact group stays cheap in a big library).
    if only == Some(Tier::Exact) {
        return e;
    }
    let same_pixels = |a: usize, b: usize| {
        photos[a].pixel_hash.is_some() && photos[a].pixel_hash == photos[b].pixel_hash
    };

    // Near: perceptual hashes within the radius, through the multi-index.
    let mut hashed: Vec<usize> = Vec::new();
    let mut hashes: Vec<Hash256> = Vec::new();
    let mut phash_of: Vec<Option<Hash256>> = vec![None; photos.len()];
    for (i, p) in photos.iter().enumerate().filter(|(i, _)| comparable(*i)) {
        if let Some(h) = p.phash.as_deref().and_then(hashindex::hash_from_bytes) {
            hashed.push(i);
            hashes.push(h);
            phash_of[i] = Some(h);
        }
    }
    for (a, b, _) in MultiIndex::build(&hashes).pairs_within(params.near_max_distance) {
        let (a, b) = (hashed[a as usize], hashed[b as usize]);
        let p = pair(a, b);
        if !same_pixels(a, b) && !decided.contains(Tier::Near, p) && !companions(a, b) {
            e.near.insert(p);
        }
    }

    // Crops: a photo's full hash near the hash of a region of another one.
    let mut regions: Vec<Hash256> = Vec::new();
    let mut region_owner: Vec<usize> = Vec::new();
    let mut regions_of: Vec<std::ops::Range<usize>> = vec![0..0; photos.len()];
    for (i, p) in photos.iter().enumerate().filter(|(i, _)| comparable(*i)) {
        if let Some(blob) = p.crop_hashes.as_deref() {
            let start = regions.len();
            for h in blob.chunks_exact(32).filter_map(hashindex::hash_from_bytes) {
                regions.push(h);
                region_owner.push(i);
            }
            regions_of[i] = start..regions.len();
        }
    }
    // The smallest of the full-hash distance and the crop distances both
    // ways: how far apart the hashes put two photos.
    let hash_distance = |a: usize, b: usize| -> Option<u32> {
        let (fa, fb) = (phash_of[a]?, phash_of[b]?);
        let ab = regions[regions_of[b].clone()]
            .iter()
            .map(|r| hashindex::distance(&fa, r));
        let ba = regions[regions_of[a].clone()]
            .iter()
            .map(|r| hashindex::distance(&fb, r));
        ab.chain(ba).chain([hashindex::distance(&fa, &fb)]).min()
    };
    if !regions.is_empty() && !hashes.is_empty() {
        // The photos' hashes are indexed and the (many more) region hashes
        // are the queries: the index and its marks stay small enough for
        // the caches.
        let index = MultiIndex::build(&hashes);
        let radius = if hashes.len() > params.crop_full_radius_limit {
            // Beyond 15 bits the probes cover 137 chunk values instead of
            // one, and the search grows with the square of the library.
            tracing::info!(
                photos = hashes.len(),
                "large library: crops matched within {} bits (exact crops); rotated crops need an embedding",
                params.crop_hash_max_distance.min(15)
            );
            params.crop_hash_max_distance.min(15)
        } else {
            params.crop_hash_max_distance
        };
        // Every matching region of a pair, then one pixel check per pair
        // (the best-matching region first).
        let mut matched: HashMap<Pair, Vec<(u32, usize, usize, usize)>> = HashMap::new();
        for (r, q, d) in index.matches(&regions, radius) {
            let (a, b) = (hashed[q as usize], region_owner[r as usize]);
            if a == b || same_pixels(a, b) || companions(a, b) {
                continue;
            }
            let p = pair(a, b);
            if !e.near.contains(&p) && !decided.contains(Tier::Near, p) {
                let region = r as usize - regions_of[b].start;
                matched.entry(p).or_default().push((d, a, b, region));
            }
        }
        for (p, mut found) in matched {
            found.sort_unstable();
            let confirmed = match crop_check {
                None => true,
                Some(check) => found.iter().take(3).any(|&(_, whole, source, region)| {
                    check(&photos[whole], &photos[source], region)
                }),
            };
            if confirmed {
                e.near.insert(p);
                e.crops.insert(p);
            }
        }
    }

    // Embedding pairs: crops confirmed for the near tier, and similar shots.
    let Some(vectors) = vectors else {
        return e;
    };
    let mut dated: Vec<(i64, usize)> = Vec::new();
    let mut undated: Vec<usize> = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        if !vectors.contains_key(&p.id) || !comparable(i) {
            continue;
        }
        match timestamp(p).filter(|_| p.exif_date) {
            Some(t) => dated.push((t, i)),
            None => undated.push(i),
        }
    }
    dated.sort_unstable();
    let mut candidates: Vec<(usize, usize, bool)> = Vec::new();
    for (k, &(t, a)) in dated.iter().enumerate() {
        for &(u, b) in &dated[k + 1..] {
            if u - t > params.similar_max_seconds {
                break;
            }
            candidates.push((a, b, true));
        }
    }
    let all: Vec<usize> = dated
        .iter()
        .map(|&(_, i)| i)
        .chain(undated.iter().copied())
        .collect();
    let budget = params.undated_pair_budget;
    if (undated.len() as u64) * (all.len() as u64) <= budget {
        // Undated photos against everything (an export without EXIF may be
        // a crop of a dated original).
        let undated_set: HashSet<usize> = undated.iter().copied().collect();
        for &a in &undated {
            for &b in &all {
                if a != b && (!undated_set.contains(&b) || a < b) {
                    candidates.push((a, b, false));
                }
            }
        }
    } else if (undated.len() as u64).pow(2) <= budget {
        for (k, &a) in undated.iter().enumerate() {
            for &b in &undated[k + 1..] {
                candidates.push((a, b, false));
            }
        }
        tracing::warn!(
            undated = undated.len(),
            "many photos without an EXIF date: compared among themselves only"
        );
    } else {
        tracing::warn!(
            undated = undated.len(),
            "too many photos without an EXIF date to compare for similar shots; skipped"
        );
    }
    for (a, b, both_dated) in candidates {
        let p = pair(a, b);
        if e.exact.contains(&p) || e.near.contains(&p) || same_pixels(a, b) || companions(a, b) {
            continue;
        }
        let (Some(va), Some(vb)) = (vectors.get(&photos[a].id), vectors.get(&photos[b].id)) else {
            continue;
        };
        let cos = dot(va, vb);
        let d = hash_distance(a, b);
        if d.is_some_and(|d| d <= params.crop_max_distance) && cos >= params.crop_min_cosine {
            if !decided.contains(Tier::Near, p) {
                e.near.insert(p);
                e.confirmed.insert(p);
            }
            continue;
        }
        let min = if both_dated {
            params.similar_min_cosine
        } else {
            params.similar_undated_min_cosine
        };
        if cos >= min && !decided.contains(Tier::Similar, p) {
            e.similar.insert(p);
        }
    }
    e
}

/// Every group of every tier (or of `only`), sorted by tier, then by the
/// first member's path.
pub fn build_groups(
    photos: &[DupePhoto],
    vectors: Option<&HashMap<i64, Vec<f32>>>,
    decisions: &[DupeDecision],
    params: &Params,
    only: Option<Tier>,
    crop_check: Option<CropCheck>,
) -> Vec<Group> {
    let index_of: HashMap<[u8; 32], usize> = photos
        .iter()
        .enumerate()
        .map(|(i, p)| (p.hash, i))
        .collect();
    let decided = Decided::new(decisions, &index_of);
    let e = edges(photos, vectors, decisions, params, only, crop_check);
    let mut out = Vec::new();
    let wants = |t: Tier| only.is_none_or(|o| o == t);

    if wants(Tier::Exact) {
        for p in photos.iter().filter(|p| p.files.len() > 1) {
            if decided.keep_copies.contains(&p.hash) {
                continue;
            }
            let (keep, reason) = suggest::keep_copy(&p.files);
            let members = p
                .files
                .iter()
                .map(|f| Member {
                    id: f.id,
                    photo_id: p.id,
                    path: f.display.clone(),
                    paths: vec![f.display.clone()],
                    width: p.width,
                    height: p.height,
                    bytes: f.size,
                    taken_at: p.taken_at.clone(),
                    hash: hex(&p.hash),
                    keep: false,
                })
                .collect();
            out.push(
                Group {
                    id: group_id(Tier::Exact, GroupKind::Copies, &mut [p.hash]),
                    tier: Tier::Exact,
                    kind: GroupKind::Copies,
                    members,
                    keep: p.files[keep].id,
                    reason,
                    notes: Vec::new(),
                    certain: true,
                    differs: Vec::new(),
                }
                .finished(),
            );
        }
    }
    for tier in [Tier::Exact, Tier::Near, Tier::Similar] {
        if !wants(tier) {
            continue;
        }
        let tier_edges = match tier {
            Tier::Exact => &e.exact,
            Tier::Near => &e.near,
            Tier::Similar => &e.similar,
        };
        let mut uf = UnionFind::new(photos.len());
        for &(a, b) in tier_edges {
            uf.union(a as usize, b as usize);
        }
        for idx in uf.groups() {
            let members: Vec<&DupePhoto> = idx.iter().map(|&i| &photos[i]).collect();
            let (keep, reason) = suggest::keep_photo(&members);
            let inside = |set: &HashSet<Pair>| {
                let mut n = 0;
                for (k, &a) in idx.iter().enumerate() {
                    for &b in &idx[k + 1..] {
                        n += set.contains(&pair(a, b)) as usize;
                    }
                }
                n
            };
            let mut notes = Vec::new();
            let uncertain = tier == Tier::Near && inside(&e.confirmed) > 0;
            if tier != Tier::Exact {
                let n = inside(&e.exact);
                if n > 0 {
                    notes.push(format!(
                        "{n} pair(s) in this group have identical pixels (also an exact group)"
                    ));
                }
            }
            if tier == Tier::Near {
                let n = inside(&e.crops);
                if n > 0 {
                    notes.push(format!(
                        "{n} pair(s) matched as a crop: one photo looks like a region of the other"
                    ));
                }
                let n = inside(&e.confirmed);
                if n > 0 {
                    notes.push(format!(
                        "{n} pair(s) differ more than a re-save would (a crop?) and were confirmed by the image embedding alone: check them before resolving; resolving all groups leaves this one to you"
                    ));
                }
            }
            if let Some(set) = decided.pairs.get(tier.as_str()) {
                let n = inside(set);
                if n > 0 {
                    notes.push(format!(
                        "{n} pair(s) in this group were marked as not duplicates before; it is proposed again only because new members link to them"
                    ));
                }
            }
            if tier == Tier::Similar {
                let n = inside(&e.near);
                if n > 0 {
                    notes.push(format!(
                        "{n} pair(s) in this group are near-duplicates (also a near group)"
                    ));
                }
                notes.push(
                    "similar shots, not duplicates: pick your favourites; nothing is suggested for removal in bulk"
                        .into(),
                );
            }
            let mut hashes: Vec<[u8; 32]> = members.iter().map(|p| p.hash).collect();
            out.push(
                Group {
                    id: group_id(tier, GroupKind::Photos, &mut hashes),
                    tier,
                    kind: GroupKind::Photos,
                    keep: members[keep].id,
                    members: members.iter().map(|p| photo_member(p)).collect(),
                    reason: if tier == Tier::Similar {
                        format!("suggested favourite: {reason}")
                    } else {
                        reason
                    },
                    notes,
                    certain: tier == Tier::Exact || (tier == Tier::Near && !uncertain),
                    differs: Vec::new(),
                }
                .finished(),
            );
        }
    }
    out.sort_by(|a, b| {
        a.tier
            .cmp(&b.tier)
            .then_with(|| a.members[0].path.cmp(&b.members[0].path))
    });
    out
}

/// Parses a 64-character hex hash.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::DupeFile;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn photo(id: i64, phash: [u8; 32], crops: Option<Vec<u8>>, files: usize) -> DupePhoto {
        DupePhoto {
            id,
            hash: [id as u8; 32],
            width: 100,
            height: 100,
            format: "jpeg".into(),
            taken_at: None,
            exif_date: false,
            has_exif: false,
            has_gps: false,
            phash: Some(phash.to_vec()),
            pixel_hash: Some([id as u8; 32]),
            sharpness: None,
            crop_hashes: crops,
            lacks_content: None,
            orientation: 1,
            files: (0..files)
                .map(|k| DupeFile {
                    id: id * 10 + k as i64,
                    path: format!("/p/{id}-{k}.jpg").into(),
                    display: format!("/p/{id}-{k}.jpg"),
                    size: 10,
                    mtime_ns: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn one_exact_group_is_found_without_weaker_tiers_work() {
        // Photo 1 has two copies; photo 3's region hash equals photo 2's
        // hash, so the full grouping checks that crop on pixels.
        let whole = [0x5a; 32];
        let photos = vec![
            photo(1, [0x00; 32], None, 2),
            photo(2, whole, None, 1),
            photo(3, [0xff; 32], Some(whole.to_vec()), 1),
        ];
        let checks = AtomicUsize::new(0);
        let check = |_: &DupePhoto, _: &DupePhoto, _: usize| {
            checks.fetch_add(1, Ordering::SeqCst);
            true
        };
        let all = build_groups(&photos, None, &[], &Params::default(), None, Some(&check));
        assert!(
            checks.load(Ordering::SeqCst) > 0,
            "the full grouping checks the crop"
        );
        assert!(all.iter().any(|g| g.tier == Tier::Near));
        checks.store(0, Ordering::SeqCst);
        let exact = build_groups(
            &photos,
            None,
            &[],
            &Params::default(),
            Some(Tier::Exact),
            Some(&check),
        );
        assert_eq!(
            checks.load(Ordering::SeqCst),
            0,
            "no crop check for an exact group"
        );
        let copies: Vec<_> = all.iter().filter(|g| g.tier == Tier::Exact).collect();
        assert_eq!(exact.len(), copies.len());
        assert_eq!(exact[0].id, copies[0].id);
        assert_eq!(tier_of_id(&exact[0].id), Some(Tier::Exact));
        let near = all.iter().find(|g| g.tier == Tier::Near).unwrap();
        assert_eq!(tier_of_id(&near.id), Some(Tier::Near));
    }
}
