//! The duplicate verbs of [`Library`].

use super::Library;
use crate::catalog::{DupeAction, DupePhoto};
use crate::dupes::resolve::{self, Resolution, UndoReport};
use crate::dupes::{
    build_groups, BulkResolution, Decision, DuplicateReport, Group, GroupKind, Ignored, Params,
    Tier, TierCounts,
};
use crate::error::{EngineError, Result};
use crate::jobs::Change;

/// The tier a group id belongs to (its first letter), so finding one
/// group groups only its tier, not the whole library.
fn tier_of(group_id: &str) -> Result<Tier> {
    crate::dupes::groups::tier_of_id(group_id)
        .ok_or_else(|| EngineError::GroupNotFound(group_id.to_string()))
}

impl Library {
    /// Groups of one tier, or of all tiers, with the suggested keeper.
    pub fn duplicates(&self, tier: Option<Tier>) -> Result<Vec<Group>> {
        self.duplicates_with(&Params::default(), tier)
    }

    /// The groups of `tier` (all when `None`) with every tier's count: what
    /// `dupes` answers in every shell.
    pub fn duplicate_report(&self, tier: Option<Tier>) -> Result<DuplicateReport> {
        let all = self.duplicates(None)?;
        Ok(DuplicateReport {
            counts: TierCounts::of(&all),
            groups: all
                .into_iter()
                .filter(|g| tier.is_none_or(|t| g.tier == t))
                .collect(),
        })
    }

    /// `duplicates` with explicit thresholds (for tuning and evaluation).
    pub fn duplicates_with(&self, params: &Params, tier: Option<Tier>) -> Result<Vec<Group>> {
        Ok(self.grouping(params, tier)?.1)
    }

    fn grouping(
        &self,
        params: &Params,
        tier: Option<Tier>,
    ) -> Result<(Vec<DupePhoto>, Vec<Group>)> {
        resolve::reconcile(self.catalog())?;
        self.catalog().read_snapshot(|catalog| {
            let photos = catalog.dupe_photos()?;
            let decisions = catalog.dupe_decisions()?;
            let needs_vectors = tier.is_none_or(|t| t != Tier::Exact);
            let vectors = match catalog.active_model()? {
                Some(model) if needs_vectors => Some(catalog.all_vectors(model.id)?),
                _ => None,
            };
            let checker = crate::dupes::cropcheck::CropChecker::new(self.thumb_cache());
            let check = |whole: &DupePhoto, source: &DupePhoto, region: usize| {
                checker.check(whole, source, region)
            };
            let groups = build_groups(
                &photos,
                vectors.as_ref(),
                &decisions,
                params,
                tier,
                Some(&check),
            );
            Ok((photos, groups))
        })
    }

    /// Resolves one group: keeps `keep` (a member id; default: the
    /// suggestion) and moves every other file to the OS trash, unless
    /// `dry_run`. Similar shots need an explicit `keep`.
    pub fn resolve_duplicate(
        &self,
        group_id: &str,
        keep: Option<i64>,
        dry_run: bool,
    ) -> Result<Resolution> {
        let (photos, groups) = self.grouping(&Params::default(), Some(tier_of(group_id)?))?;
        let group = resolve::find(&groups, group_id)?;
        if group.tier == Tier::Similar && keep.is_none() {
            return Err(EngineError::Conflict(format!(
                "group {group_id} holds similar shots, not duplicates: choose the one to keep with --keep ID"
            )));
        }
        let plan = resolve::plan(group, &photos, keep)?;
        if dry_run {
            return Ok(plan.resolution);
        }
        let resolution = resolve::execute(self.catalog(), plan);
        self.files_moved();
        resolution
    }

    /// Applies the suggestion to every group of `tier` (never `similar`).
    /// A dry run returns the same plans a real run carries out.
    pub fn resolve_all_duplicates(&self, tier: Tier, dry_run: bool) -> Result<BulkResolution> {
        if tier == Tier::Similar {
            return Err(EngineError::Invalid(
                "similar shots are not duplicates and are never resolved in bulk; pick favourites group by group with `dupes resolve GROUP --keep ID`".into(),
            ));
        }
        let (photos, groups) = self.grouping(&Params::default(), Some(tier))?;
        let mut out = Vec::with_capacity(groups.len());
        for group in &groups {
            let mut plan = resolve::plan(group, &photos, None)?;
            if !group.certain {
                // A group that rests on the image embedding may hold
                // different photos that look alike: the user decides.
                plan.leave_for_review(
                    "left for your review: this group rests on the image embedding (a similar look, not matching pixels or hashes); resolve it on its own",
                );
                out.push(plan.resolution);
                continue;
            }
            out.push(if dry_run {
                plan.resolution
            } else {
                resolve::execute(self.catalog(), plan)?
            });
        }
        if !dry_run {
            self.files_moved();
        }
        Ok(BulkResolution {
            tier,
            dry_run,
            groups: out,
        })
    }

    /// Remembers that a group is not duplicates (exact, near) or that all
    /// its photos are kept (similar, and copies); it is not proposed again,
    /// even after rescans, moves or re-embedding.
    pub fn ignore_duplicate(&self, group_id: &str) -> Result<Ignored> {
        let (_, groups) = self.grouping(&Params::default(), Some(tier_of(group_id)?))?;
        let group = resolve::find(&groups, group_id)?.clone();
        let hashes: Vec<[u8; 32]> = group
            .members
            .iter()
            .filter_map(|m| crate::dupes::groups::parse_hex32(&m.hash))
            .collect();
        let decision = Decision::of(&group);
        let tier = match group.kind {
            GroupKind::Copies => "copies",
            GroupKind::Photos => group.tier.as_str(),
        };
        self.catalog()
            .record_dupe_decision(tier, decision.as_str(), &group.id, &hashes)?;
        self.emit_changed(Change::Dupes, None);
        Ok(Ignored {
            group: group.id,
            tier: group.tier,
            decision,
            members: group.members.len(),
        })
    }

    /// Every recorded resolution, oldest first.
    pub fn duplicate_history(&self) -> Result<Vec<DupeAction>> {
        resolve::reconcile(self.catalog())?;
        self.catalog().dupe_actions()
    }

    /// Restores the files an action moved to the trash (where the platform
    /// allows). Run a scan afterwards to index them again.
    pub fn undo_duplicate_action(&self, id: i64) -> Result<UndoReport> {
        resolve::reconcile(self.catalog())?;
        let report = resolve::undo(self.catalog(), id)?;
        // Restored files come back through a scan of their folders.
        self.enqueue_job(crate::jobs::KIND_SCAN, "")?;
        self.files_moved();
        Ok(report)
    }

    /// Files went to (or came back from) the trash: the duplicate and
    /// photo views change.
    fn files_moved(&self) {
        self.emit_changed(Change::Dupes, None);
        self.emit_changed(Change::Photos, None);
    }
}
