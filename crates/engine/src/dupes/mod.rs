//! Duplicates in three tiers, each explained, none ever losing a photo.
//!
//! - **exact**: byte-identical files (several files of one photo: the group's
//!   members are *files*, kind `copies`) and photos whose decoded pixels are
//!   identical but whose bytes differ, e.g. after a metadata edit (members
//!   are *photos*, kind `photos`).
//! - **near**: the same picture re-saved, resized, recompressed, colour
//!   adjusted, converted to grayscale or lightly cropped: 256-bit gradient
//!   hashes within [`Params::near_max_distance`] bits, found with a
//!   multi-index ([`hashindex`]) instead of comparing all pairs. Crops move
//!   every hash bit, so each photo also stores the hashes of 22 regions
//!   (central and off-centre crops); a photo whose hash is near a region
//!   hash of another is its crop ([`Params::crop_hash_max_distance`]).
//!   Pairs just beyond those thresholds (the ambiguous band, e.g. rotated
//!   crops) count when their embeddings agree ([`Params::crop_max_distance`],
//!   [`Params::crop_min_cosine`]).
//! - **similar**: bursts and re-takes: embeddings close and, when both have
//!   an EXIF date, taken close in time. Never presented as duplicates: the
//!   user picks favourites, and bulk resolution refuses this tier.
//!
//! Within a tier, groups are the transitive closure of its pairs
//! (union-find). A pair belongs to the strongest tier that holds it; when a
//! group still contains members linked by a stronger tier (A~C near, B~C
//! near, A=B exact), its `notes` say so.
//!
//! Group ids are derived from the tier and the members' content hashes, so
//! they are stable between runs and across rescans and moves, and change
//! only when the membership does.

pub mod cropcheck;
pub mod groups;
pub mod hashindex;

pub mod report;
pub mod resolve;
pub mod suggest;
pub mod unionfind;

use serde::Serialize;

pub use groups::build_groups;
pub use report::{BulkResolution, Decision, DuplicateReport, Ignored, TierCounts};
pub use resolve::{Resolution, UndoReport};

/// The three tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Exact,
    Near,
    Similar,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Exact => "exact",
            Tier::Near => "near",
            Tier::Similar => "similar",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tier {
    type Err = crate::EngineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "exact" => Ok(Tier::Exact),
            "near" => Ok(Tier::Near),
            "similar" => Ok(Tier::Similar),
            other => Err(crate::EngineError::Invalid(format!(
                "unknown duplicate tier {other:?}: use exact, near or similar"
            ))),
        }
    }
}

/// What a group's members are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// Files with identical bytes: one photo, several locations. Member ids
    /// are file ids; resolving keeps one file and trashes the other copies.
    Copies,
    /// Distinct photos. Member ids are photo ids; resolving keeps one photo
    /// and trashes every readable file of the others.
    Photos,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// File id in a `copies` group, photo id otherwise.
    pub id: i64,
    pub photo_id: i64,
    /// Where it is (the oldest readable file of a photo).
    pub path: String,
    /// Every readable file of the photo (the one file for a copy).
    pub paths: Vec<String>,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub taken_at: Option<String>,
    /// BLAKE3 of the photo's bytes (hex).
    pub hash: String,
    /// This is the member suggested to keep.
    pub keep: bool,
}

/// A group of duplicates (or similar shots) with the suggested keeper.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub id: String,
    pub tier: Tier,
    pub kind: GroupKind,
    pub members: Vec<Member>,
    /// The member id suggested to keep.
    pub keep: i64,
    /// Why, in words.
    pub reason: String,
    /// Anything the user should know, e.g. members also linked by a
    /// stronger tier.
    pub notes: Vec<String>,
    /// Every pair in the group is certain by pixels or hashes (exact, and
    /// near groups whose pairs the embedding did not have to confirm).
    /// Only certain groups are resolved in bulk; similar shots never are.
    pub certain: bool,
    /// What differs between members (see [`Group::differences`]).
    pub differs: Vec<&'static str>,
}

impl Group {
    /// The group as every shell shows it: the keeper marked among the
    /// members, and what differs between them.
    pub(crate) fn finished(mut self) -> Group {
        for m in &mut self.members {
            m.keep = m.id == self.keep;
        }
        self.differs = self.differences();
        self
    }

    /// The facts that differ between members, for a UI to highlight: any
    /// of `resolution`, `bytes`, `taken_at`, `folder`.
    pub fn differences(&self) -> Vec<&'static str> {
        fn differ<T: PartialEq>(members: &[Member], f: impl Fn(&Member) -> T) -> bool {
            members.windows(2).any(|w| f(&w[0]) != f(&w[1]))
        }
        let m = &self.members;
        let folder = |m: &Member| {
            std::path::Path::new(&m.path)
                .parent()
                .map(|p| p.to_path_buf())
        };
        [
            ("resolution", differ(m, |m| (m.width, m.height))),
            ("bytes", differ(m, |m| m.bytes)),
            ("taken_at", differ(m, |m| m.taken_at.clone())),
            ("folder", differ(m, folder)),
        ]
        .into_iter()
        .filter_map(|(name, d)| d.then_some(name))
        .collect()
    }
}

/// Thresholds, tuned on `../shared/data/neardup-dev` (see
/// `examples/neardup_eval.rs` and docs/duplicates.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Largest Hamming distance (of 256 bits) for a near-duplicate by hash alone.
    pub near_max_distance: u32,
    /// Largest distance between a photo's hash and the hash of a region of
    /// another photo (see `ingest::phash::crop_regions`) for a crop.
    pub crop_hash_max_distance: u32,
    /// Above this many photos the crop search uses at most 15 bits (exact
    /// chunk probes: about 90x faster at 100k photos, see `dupes_bench`),
    /// which still finds plain crops (0–13 bits on neardup-dev) but leaves
    /// rotated crops to the embedding confirmation.
    pub crop_full_radius_limit: usize,
    /// Largest hash distance (the smaller of the full-hash distance and the
    /// crop distances) at which an embedding may confirm a near-duplicate
    /// that the hash thresholds above miss. Kept just below the closest
    /// unrelated pair seen on neardup-dev (61), so the embedding only
    /// decides inside a narrow ambiguous band.
    pub crop_max_distance: u32,
    /// Smallest cosine that confirms such a pair.
    pub crop_min_cosine: f32,
    /// Smallest cosine for similar shots taken close in time.
    pub similar_min_cosine: f32,
    /// Largest time between similar shots, when both have an EXIF date.
    pub similar_max_seconds: i64,
    /// Smallest cosine for similar shots when a date is missing.
    pub similar_undated_min_cosine: f32,
    /// Photos without an EXIF date cannot be windowed by time, so they are
    /// compared against every photo with a vector while that stays under
    /// this many pairs; else among themselves (if that fits); else they are
    /// skipped with a warning.
    pub undated_pair_budget: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            // 31, not 32: the multi-index then probes chunk values within 1 bit
            // (17 per chunk) instead of 2 (137), 8x less work, and neardup-dev
            // needs at most 16 (see docs/duplicates.md).
            near_max_distance: 31,
            crop_hash_max_distance: 44,
            crop_full_radius_limit: 20_000,
            crop_max_distance: 58,
            crop_min_cosine: 0.93,
            similar_min_cosine: 0.90,
            similar_max_seconds: 120,
            similar_undated_min_cosine: 0.95,
            undated_pair_budget: 50_000_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, path: &str, w: u32, bytes: u64) -> Member {
        Member {
            id,
            photo_id: id,
            path: path.into(),
            paths: vec![path.into()],
            width: w,
            height: w,
            bytes,
            taken_at: Some("2020-01-01T00:00:00Z".into()),
            hash: format!("{id:064x}"),
            keep: false,
        }
    }

    #[test]
    fn differences_name_what_differs() {
        let group = Group {
            id: "n1".into(),
            tier: Tier::Near,
            kind: GroupKind::Photos,
            members: vec![member(1, "/a/x.jpg", 100, 5), member(2, "/b/y.jpg", 50, 5)],
            keep: 1,
            reason: String::new(),
            notes: Vec::new(),
            certain: true,
            differs: Vec::new(),
        }
        .finished();
        assert_eq!(group.differences(), ["resolution", "folder"]);
        assert_eq!(group.differs, ["resolution", "folder"]);
        assert!(group.members[0].keep && !group.members[1].keep);
    }
}
