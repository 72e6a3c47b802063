//! Settings: sidecars, the device, the preview cache.

use serde::Deserialize;
use serde_json::json;
use shoebox_engine::library::settings::DEVICE_CHOICES;
use shoebox_engine::model::DeviceChoice;
use shoebox_engine::tags::SidecarNaming;
use shoebox_engine::{EngineError, Library};

use super::{to_value, NoArgs, Out};
use crate::error::ApiError;
use crate::state::ApiState;

fn settings_value(state: &ApiState, library: &Library) -> Out {
    let choice = state.device(library);
    let (_, device) = shoebox_engine::model::select_device(choice);
    Ok(json!({
        "xmp": library.xmp_settings()?,
        "thumbnails": library.thumbnail_cache()?,
        "library": library.dir(),
        "device": device.name,
        "device_choice": choice.to_string(),
        "devices": DEVICE_CHOICES,
        "device_reason": device.fallback_reason,
        "device_locked": state.options().device != DeviceChoice::Auto,
    }))
}

pub(super) fn get(state: &ApiState, _: NoArgs) -> Out {
    settings_value(state, &state.library())
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
    let library = state.library();
    if let Some(x) = a.xmp {
        let mut settings = library.xmp_settings()?;
        if let Some(w) = x.write_on_change {
            settings.write_on_change = w;
        }
        if let Some(n) = x.naming {
            settings.naming = n.parse::<SidecarNaming>()?;
        }
        library.set_xmp_settings(&settings)?;
    }
    let mut device_changed = false;
    if let Some(d) = a.device {
        let choice: DeviceChoice = d.parse().map_err(|e: shoebox_engine::model::Error| {
            ApiError::Engine(EngineError::Invalid(e.to_string()))
        })?;
        device_changed = library.set_device(choice, state.options().device)?;
    }
    let out = settings_value(state, &library)?;
    drop(library);
    if device_changed {
        // The model is loaded again on the new device.
        state.model_changed()?;
    }
    Ok(out)
}

pub(super) fn clear_previews(state: &ApiState, _: NoArgs) -> Out {
    to_value(state.library().clear_previews()?)
}
