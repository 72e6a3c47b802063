//! Settings: sidecars, the device, the preview cache.

use serde::Deserialize;
use shoebox_engine::library::settings::SettingsChange;
use shoebox_engine::model::DeviceChoice;
use shoebox_engine::tags::SidecarNaming;
use shoebox_engine::EngineError;

use super::{to_value, NoArgs, Out};
use crate::error::ApiError;
use crate::state::ApiState;

pub(super) fn get(state: &ApiState, _: NoArgs) -> Out {
    to_value(state.library().settings(state.options().device)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsArgs {
    xmp: Option<XmpArgs>,
    device: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct XmpArgs {
    write_on_change: Option<bool>,
    naming: Option<String>,
}

pub(super) fn set(state: &ApiState, a: SettingsArgs) -> Out {
    let xmp = a.xmp.unwrap_or(XmpArgs {
        write_on_change: None,
        naming: None,
    });
    let change = SettingsChange {
        write_on_change: xmp.write_on_change,
        naming: xmp.naming.map(|n| n.parse::<SidecarNaming>()).transpose()?,
        device: a
            .device
            .map(|d| d.parse::<DeviceChoice>())
            .transpose()
            .map_err(|e| ApiError::Engine(EngineError::Invalid(e.to_string())))?,
    };
    let (settings, device_changed) = state
        .library()
        .change_settings(&change, state.options().device)?;
    if device_changed {
        // The model is loaded again on the new device.
        state.model_changed()?;
    }
    to_value(settings)
}

pub(super) fn clear_previews(state: &ApiState, _: NoArgs) -> Out {
    to_value(state.library().clear_previews()?)
}
