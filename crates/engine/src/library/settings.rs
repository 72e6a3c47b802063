//! Library settings that decide how work runs, and the rule for which
//! source wins: an explicit request (a command-line flag or the
//! environment, as the shell read it) over the library's stored setting
//! over the default. Every shell goes through here, so `shoebox embed`
//! runs where Settings said, as the app does.

use super::Library;
use crate::model::DeviceChoice;
use crate::Result;

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
}
