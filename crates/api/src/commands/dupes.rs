//! Duplicates: the engine's groups, resolutions and decisions as they are.

use serde::Deserialize;
use serde_json::json;
use shoebox_engine::dupes::Tier;

use super::{to_value, NoArgs, Out};
use crate::error::ApiError;
use crate::state::ApiState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DupesArgs {
    #[serde(default)]
    tier: Option<String>,
}

fn parse_tier(tier: &str) -> Result<Tier, ApiError> {
    Ok(tier.parse::<Tier>()?)
}

pub(super) fn list(state: &ApiState, a: DupesArgs) -> Out {
    let tier = a.tier.as_deref().map(parse_tier).transpose()?;
    to_value(state.library().duplicate_report(tier)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResolveArgs {
    group: String,
    keep: Option<i64>,
    /// Safe by default: nothing moves unless `dry_run` is false.
    #[serde(default = "super::yes")]
    dry_run: bool,
}

pub(super) fn resolve(state: &ApiState, a: ResolveArgs) -> Out {
    to_value(
        state
            .library()
            .resolve_duplicate(&a.group, a.keep, a.dry_run)?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResolveAllArgs {
    tier: String,
    #[serde(default = "super::yes")]
    dry_run: bool,
}

pub(super) fn resolve_all(state: &ApiState, a: ResolveAllArgs) -> Out {
    let tier = parse_tier(&a.tier)?;
    to_value(state.library().resolve_all_duplicates(tier, a.dry_run)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupArgs {
    group: String,
}

pub(super) fn ignore(state: &ApiState, a: GroupArgs) -> Out {
    to_value(state.library().ignore_duplicate(&a.group)?)
}

pub(super) fn history(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"actions": state.library().duplicate_history()?}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UndoArgs {
    action: i64,
}

pub(super) fn undo(state: &ApiState, a: UndoArgs) -> Out {
    let report = state.library().undo_duplicate_action(a.action)?;
    // The engine queued a scan of the restored files; run it.
    state.request_scan(None)?;
    to_value(report)
}
