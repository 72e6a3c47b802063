//! Library settings that decide how work runs, and the rule for which
//! source wins: an explicit request (a command-line flag or the
//! environment, as the shell read it) over the library's stored setting
//! over the default. Every shell goes through here, so `shoebox embed`
//! runs where Settings said, as the app does.

use std::path::PathBuf;

use serde::Serialize;

use super::Library;
use crate::browse::CacheStats;
use crate::model::DeviceChoice;
use crate::tags::{SidecarNaming, XmpSettings};
use crate::Result;

/// Everything Settings shows, as every shell gets it.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub xmp: XmpSettings,
    pub thumbnails: CacheStats,
    pub library: PathBuf,
    /// What runs the model now (after any fallback).
    pub device: String,
    /// What is chosen (the request, else the setting, else `auto`).
    pub device_choice: String,
    pub devices: [&'static str; 4],
    /// Why a chosen accelerator is not in use.
    pub device_reason: Option<String>,
    /// The process was started with a device, which wins over the setting.
    pub device_locked: bool,
}

/// A change to the settings; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub write_on_change: Option<bool>,
    pub naming: Option<SidecarNaming>,
    pub device: Option<DeviceChoice>,
}

/// Catalog setting: the device chosen in Settings (`auto`, `cpu`, `cuda`, `metal`).
pub const DEVICE_SETTING: &str = "model.device";

/// The devices a user may choose between.
pub const DEVICE_CHOICES: [&str; 4] = ["auto", "cpu", "cuda", "metal"];

impl Library {
    /// The device models run on: `requested` (a flag or `SHOEBOX_DEVICE`)
    /// when it names one, else the library's setting, else `auto`.
    pub fn device_choice(&self, requested: DeviceChoice) -> DeviceChoice {
        if requested != DeviceChoice::Auto {
            return requested;
        }
        self.stored_device().unwrap_or_default()
    }

    /// The device stored in Settings, if any (an unreadable value counts
    /// as none: the setting is advice, not a reason to fail).
    pub fn stored_device(&self) -> Option<DeviceChoice> {
        self.catalog()
            .setting(DEVICE_SETTING)
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok())
    }

    /// Stores the device chosen in Settings; returns whether the device in
    /// effect for `requested` changed (a loaded model must then reload).
    pub fn set_device(&self, choice: DeviceChoice, requested: DeviceChoice) -> Result<bool> {
        let before = self.device_choice(requested);
        self.catalog()
            .set_setting(DEVICE_SETTING, &choice.to_string())?;
        self.emit_changed(crate::jobs::Change::Settings, None);
        Ok(before != self.device_choice(requested))
    }

    /// Settings as a process that was asked for `requested` sees them.
    pub fn settings(&self, requested: DeviceChoice) -> Result<Settings> {
        let choice = self.device_choice(requested);
        let (_, device) = crate::model::select_device(choice);
        Ok(Settings {
            xmp: self.xmp_settings()?,
            thumbnails: self.thumbnail_cache()?,
            library: self.dir().to_path_buf(),
            device: device.name,
            device_choice: choice.to_string(),
            devices: DEVICE_CHOICES,
            device_reason: device.fallback_reason,
            device_locked: requested != DeviceChoice::Auto,
        })
    }

    /// Applies `change`; returns the settings after it and whether the
    /// device in effect changed (a loaded model must then reload).
    pub fn change_settings(
        &self,
        change: &SettingsChange,
        requested: DeviceChoice,
    ) -> Result<(Settings, bool)> {
        if change.write_on_change.is_some() || change.naming.is_some() {
            let mut xmp = self.xmp_settings()?;
            xmp.write_on_change = change.write_on_change.unwrap_or(xmp.write_on_change);
            xmp.naming = change.naming.unwrap_or(xmp.naming);
            self.set_xmp_settings(&xmp)?;
        }
        let device_changed = match change.device {
            Some(choice) => self.set_device(choice, requested)?,
            None => false,
        };
        Ok((self.settings(requested)?, device_changed))
    }
}
