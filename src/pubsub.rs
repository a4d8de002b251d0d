//! Channel, pattern and shard-channel subscriptions, in subscription order
//! so messages reach subscribers in the order Redis delivers them.
//!
//! Invariant: a name exists in a registry only while it has at least one
//! subscriber, and is in a client's own set of that kind exactly when the
//! client is in its list here.

use crate::clients::ClientId;
use std::collections::HashMap;

/// The three independent kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<ClientId>>,
    /// Patterns in the order they were first subscribed.
    pub patterns: Vec<(Vec<u8>, Vec<ClientId>)>,
    pub shard_channels: HashMap<Vec<u8>, Vec<ClientId>>,
}

impl PubSub {
    pub fn add(&mut self, kind: Kind, name: &[u8], id: ClientId) {
        match kind {
            Kind::Channel => self.channels.entry(name.to_vec()).or_default().push(id),
            Kind::Shard => self.shard_channels.entry(name.to_vec()).or_default().push(id),
            Kind::Pattern => match self.patterns.iter_mut().find(|(p, _)| p == name) {
                Some((_, ids)) => ids.push(id),
                None => self.patterns.push((name.to_vec(), vec![id])),
            },
        }
    }

    pub fn remove(&mut self, kind: Kind, name: &[u8], id: ClientId) {
        let map = match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard_channels,
            Kind::Pattern => {
                if let Some(i) = self.patterns.iter().position(|(p, _)| p == name) {
                    self.patterns[i].1.retain(|&c| c != id);
                    if self.patterns[i].1.is_empty() {
                        self.patterns.remove(i);
                    }
                }
                return;
            }
        };
        if let Some(list) = map.get_mut(name) {
            list.retain(|&c| c != id);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Number of distinct patterns with subscribers.
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }
}
