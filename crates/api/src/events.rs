//! The event bus: every event (the engine's `LiveEvent`s, `changed` and
//! `download` included) goes to every subscriber as JSON. The
//! HTTP server streams a subscription as server-sent events; the Tauri
//! shell emits it as the window event `shoebox://event`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crossbeam_channel::{unbounded, Receiver, Sender};
use serde_json::Value;

/// Events are dropped for a subscriber that has this many unread (a
/// stalled browser tab must not grow memory without bound).
const MAX_BACKLOG: usize = 10_000;

#[derive(Default)]
pub struct EventBus {
    subscribers: Mutex<Vec<Sender<Value>>>,
    /// The last `progress` event per job kind, cleared by `idle`.
    progress: Mutex<BTreeMap<String, Value>>,
}

impl EventBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new subscription; dropping the receiver ends it.
    pub fn subscribe(&self) -> Receiver<Value> {
        let (tx, rx) = unbounded();
        self.subscribers.lock().expect("bus lock").push(tx);
        rx
    }

    /// Sends `event` (an object with an `event` field) to every subscriber.
    pub fn emit(&self, event: Value) {
        match event.get("event").and_then(Value::as_str) {
            Some("progress") => {
                if let Some(kind) = event.get("kind").and_then(Value::as_str) {
                    let mut progress = self.progress.lock().expect("progress lock");
                    let done = event.get("done") == event.get("total");
                    if done {
                        progress.remove(kind);
                    } else {
                        progress.insert(kind.to_string(), event.clone());
                    }
                }
            }
            Some("idle") | Some("stopped") => self.progress.lock().expect("progress lock").clear(),
            _ => {}
        }
        tracing::debug!(%event, "event");
        self.subscribers
            .lock()
            .expect("bus lock")
            .retain(|tx| tx.len() >= MAX_BACKLOG || tx.send(event.clone()).is_ok());
    }

    /// The last progress event of each job kind still at work.
    pub fn progress(&self) -> Vec<Value> {
        self.progress
            .lock()
            .expect("progress lock")
            .values()
            .cloned()
            .collect()
    }

    pub fn subscriber_count(&self) -> usize {
        self.subscribers.lock().expect("bus lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_subscriber_gets_events_and_progress_is_remembered() {
        let bus = EventBus::new();
        let a = bus.subscribe();
        let b = bus.subscribe();
        bus.emit(json!({"event": "progress", "kind": "scan", "done": 1, "total": 4}));
        assert_eq!(a.recv().unwrap()["kind"], "scan");
        assert_eq!(b.recv().unwrap()["done"], 1);
        assert_eq!(bus.progress().len(), 1);
        bus.emit(json!({"event": "idle", "paused": []}));
        assert!(bus.progress().is_empty());
        drop(a);
        bus.emit(json!({"event": "changed", "what": "tags", "ids": [3]}));
        assert_eq!(bus.subscriber_count(), 1);
        assert_eq!(b.recv().unwrap()["event"], "idle");
        assert_eq!(b.recv().unwrap()["ids"], json!([3]));
    }
}
