//! Socket.IO connections on this node (`MAX_CONNECTIONS`), per user (`MAX_SOCKETS_PER_USER`)
//! and per IP address (`MAX_SOCKETS_PER_IP`). A socket holds a [`Slot`] from its handshake
//! until it disconnects — or until it is dropped, should it never get that far.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

#[derive(Default)]
struct Counts<K>(Mutex<HashMap<K, usize>>);

impl<K: Hash + Eq + Clone> Counts<K> {
    fn release(&self, key: &K) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(key);
            }
        }
    }
}

pub struct SocketCaps {
    /// All sockets; raised only under the users' lock, so it never passes the cap.
    total: std::sync::atomic::AtomicUsize,
    users: Counts<String>,
    ips: Counts<IpAddr>,
    max_total: usize,
    max_per_user: usize,
    max_per_ip: usize,
}

/// Which cap refused a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Node,
    User,
    Ip,
}

impl SocketCaps {
    pub fn new(max_total: usize, max_per_user: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(SocketCaps {
            total: std::sync::atomic::AtomicUsize::new(0),
            users: Counts(Mutex::default()),
            ips: Counts(Mutex::default()),
            max_total,
            max_per_user,
            max_per_ip,
        })
    }

    /// Count a socket of `user` from `ip`, or say which cap it would exceed.
    pub fn admit(self: &Arc<Self>, user: &str, ip: Option<IpAddr>) -> Result<Slot, Over> {
        // Both maps under both locks, always in this order, so a refusal counts nothing.
        let mut users = self.users.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ips = self.ips.0.lock().unwrap_or_else(PoisonError::into_inner);
        if self.total.load(Ordering::Acquire) >= self.max_total {
            return Err(Over::Node);
        }
        if users.get(user).copied().unwrap_or(0) >= self.max_per_user {
            return Err(Over::User);
        }
        if let Some(ip) = ip
            && ips.get(&ip).copied().unwrap_or(0) >= self.max_per_ip
        {
            return Err(Over::Ip);
        }
        *users.entry(user.to_string()).or_default() += 1;
        self.total.fetch_add(1, Ordering::AcqRel);
        if let Some(ip) = ip {
            *ips.entry(ip).or_default() += 1;
        }
        Ok(Slot {
            caps: self.clone(),
            user: user.to_string(),
            ip,
            released: AtomicBool::new(false),
        })
    }

    /// Sockets counted now on this node.
    pub fn sockets(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// Sockets of `user` counted now (tests, metrics).
    pub fn sockets_of(&self, user: &str) -> usize {
        let users = self.users.0.lock().unwrap_or_else(PoisonError::into_inner);
        users.get(user).copied().unwrap_or(0)
    }
}

/// One counted socket; released once, by `release` or when dropped.
pub struct Slot {
    caps: Arc<SocketCaps>,
    user: String,
    ip: Option<IpAddr>,
    released: AtomicBool,
}

impl Slot {
    pub fn release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            return;
        }
        self.caps.total.fetch_sub(1, Ordering::AcqRel);
        self.caps.users.release(&self.user);
        if let Some(ip) = &self.ip {
            self.caps.ips.release(ip);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_at_the_edge_and_free_on_release() {
        let caps = SocketCaps::new(100, 2, 3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let a = caps.admit("u", Some(ip)).unwrap();
        let b = caps.admit("u", Some(ip)).unwrap();
        assert_eq!(caps.admit("u", Some(ip)).err(), Some(Over::User));
        let c = caps.admit("v", Some(ip)).unwrap();
        assert_eq!(caps.admit("w", Some(ip)).err(), Some(Over::Ip));
        // Released twice (disconnect, then drop) counts once.
        a.release();
        drop(a);
        assert_eq!(caps.sockets_of("u"), 1);
        let _d = caps.admit("u", None).unwrap();
        assert_eq!(caps.admit("u", None).err(), Some(Over::User));
        drop((b, c));
        assert_eq!(caps.sockets_of("v"), 0);
        caps.admit("w", Some(ip)).unwrap();
    }

    #[test]
    fn the_node_cap_holds_at_the_edge_and_frees_on_release() {
        let caps = SocketCaps::new(3, 10, 10);
        let held: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|u| caps.admit(u, None).unwrap())
            .collect();
        assert_eq!(caps.sockets(), 3);
        assert_eq!(caps.admit("d", None).err(), Some(Over::Node));
        held[0].release();
        assert_eq!(caps.sockets(), 2);
        let _d = caps.admit("d", None).unwrap();
        assert_eq!(caps.admit("e", None).err(), Some(Over::Node));
        drop(held);
        assert_eq!(caps.sockets(), 1);
    }
}
