//! The duplicate answers every shell sends as they are: the list with its
//! per-tier counts, and what ignoring a group decided.

use serde::Serialize;

use super::{Group, GroupKind, Resolution, Tier};

/// Groups in each tier (of the whole library, whatever tier was asked for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TierCounts {
    pub exact: usize,
    pub near: usize,
    pub similar: usize,
}

impl TierCounts {
    pub fn of(groups: &[Group]) -> TierCounts {
        let mut counts = TierCounts::default();
        for g in groups {
            *match g.tier {
                Tier::Exact => &mut counts.exact,
                Tier::Near => &mut counts.near,
                Tier::Similar => &mut counts.similar,
            } += 1;
        }
        counts
    }
}

/// `dupes`: the counts per tier and the groups asked for.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateReport {
    pub counts: TierCounts,
    pub groups: Vec<Group>,
}

/// What `ignore` remembered about a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Similar shots or copies: all are kept.
    KeepAll,
    /// Exact or near photos that the user says are different pictures.
    NotDuplicates,
}

impl Decision {
    pub fn of(group: &Group) -> Decision {
        match (group.kind, group.tier) {
            (GroupKind::Copies, _) | (_, Tier::Similar) => Decision::KeepAll,
            _ => Decision::NotDuplicates,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::KeepAll => "keep_all",
            Decision::NotDuplicates => "not_duplicates",
        }
    }
}

/// The answer to `ignore`.
#[derive(Debug, Clone, Serialize)]
pub struct Ignored {
    pub group: String,
    pub tier: Tier,
    pub decision: Decision,
    /// Members of the group, now never proposed together again.
    pub members: usize,
}

/// The answer to resolving every group of a tier.
#[derive(Debug, Clone, Serialize)]
pub struct BulkResolution {
    pub tier: Tier,
    pub dry_run: bool,
    /// One plan (dry run) or result per group.
    pub groups: Vec<Resolution>,
}
