//! Channel and pattern subscriptions, in subscription order so messages
//! reach subscribers in the order Redis delivers them.
//!
//! Invariant: a channel (or pattern) key exists only while it has at least
//! one subscriber, and appears in a client's own sets exactly when the
//! client is in its list here.

use crate::clients::ClientId;
use std::collections::HashMap;

#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<ClientId>>,
    /// Patterns in the order they were first subscribed.
    pub patterns: Vec<(Vec<u8>, Vec<ClientId>)>,
}

impl PubSub {
    pub fn subscribe(&mut self, ch: &[u8], id: ClientId) {
        self.channels.entry(ch.to_vec()).or_default().push(id);
    }

    pub fn unsubscribe(&mut self, ch: &[u8], id: ClientId) {
        if let Some(list) = self.channels.get_mut(ch) {
            list.retain(|&c| c != id);
            if list.is_empty() {
                self.channels.remove(ch);
            }
        }
    }

    pub fn psubscribe(&mut self, pat: &[u8], id: ClientId) {
        match self.patterns.iter_mut().find(|(p, _)| p == pat) {
            Some((_, ids)) => ids.push(id),
            None => self.patterns.push((pat.to_vec(), vec![id])),
        }
    }

    pub fn punsubscribe(&mut self, pat: &[u8], id: ClientId) {
        if let Some(i) = self.patterns.iter().position(|(p, _)| p == pat) {
            self.patterns[i].1.retain(|&c| c != id);
            if self.patterns[i].1.is_empty() {
                self.patterns.remove(i);
            }
        }
    }

    /// Number of (client, pattern) subscriptions.
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }
}
