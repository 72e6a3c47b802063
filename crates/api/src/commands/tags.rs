//! Tags: the tree, a tag's photos, edits and custom tags.

use serde::Deserialize;
use serde_json::json;
use shoebox_engine::library::TagAction;

use super::{to_value, NoArgs, Out};
use crate::state::ApiState;

pub(super) fn tags(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"tags": state.library().tag_tree()?}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TagPhotosArgs {
    tag: String,
    /// `auto`, `user` or `imported`: only photos whose tag came from there.
    source: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_page")]
    limit: usize,
}

fn default_page() -> usize {
    200
}

pub(super) fn tag_photos(state: &ApiState, a: TagPhotosArgs) -> Out {
    to_value(
        state
            .library()
            .tag_photos(&a.tag, a.source.as_deref(), a.offset, a.limit)?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TagEditArgs {
    id: i64,
    tag: String,
}

fn edit(state: &ApiState, a: TagEditArgs, action: TagAction) -> Out {
    to_value(state.library().edit_tag(a.id, &a.tag, action)?)
}

pub(super) fn add(state: &ApiState, a: TagEditArgs) -> Out {
    edit(state, a, TagAction::Add)
}

pub(super) fn confirm(state: &ApiState, a: TagEditArgs) -> Out {
    edit(state, a, TagAction::Confirm)
}

pub(super) fn remove(state: &ApiState, a: TagEditArgs) -> Out {
    edit(state, a, TagAction::Remove)
}

pub(super) fn reject(state: &ApiState, a: TagEditArgs) -> Out {
    edit(state, a, TagAction::Reject)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CustomTagArgs {
    name: String,
    description: Option<String>,
    parent: Option<String>,
    #[serde(default)]
    examples: Vec<i64>,
}

pub(super) fn custom_create(state: &ApiState, a: CustomTagArgs) -> Out {
    let def = state.library().add_custom_tag(
        &a.name,
        a.description.as_deref(),
        a.parent.as_deref(),
        &a.examples,
    )?;
    let mut out = to_value(def)?;
    out["examples"] = json!(a.examples.len());
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NameArgs {
    pub(super) name: String,
}

pub(super) fn custom_remove(state: &ApiState, a: NameArgs) -> Out {
    Ok(json!({"tag": state.library().remove_custom_tag(&a.name)?}))
}
