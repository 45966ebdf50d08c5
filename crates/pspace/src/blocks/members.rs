//! Sets of slot numbers with O(1) insertion and removal.

use std::collections::HashMap;
use std::hash::Hash;

/// Each slot number belongs to at most one set, named by a key: the members
/// of a process group, the children of a parent, the tasks of a space. The
/// writer keeps these; iterating a set costs its size, not the host's.
///
/// ```
/// use pspace::blocks::Members;
///
/// let mut groups: Members<u32> = Members::default();
/// groups.insert(7, 1);
/// groups.insert(7, 2);
/// groups.insert(9, 3);
/// groups.remove(7, 1);
/// assert_eq!(groups.get(&7), &[2]);
/// assert!(groups.get(&8).is_empty());
/// ```
#[derive(Debug)]
pub struct Members<K> {
    sets: HashMap<K, Vec<u32>, foldhash::fast::RandomState>,
    position: Vec<u32>,
}

impl<K> Default for Members<K> {
    fn default() -> Self {
        Self {
            sets: HashMap::default(),
            position: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Copy> Members<K> {
    /// Adds `id` to the set `key`. `id` must not be in any set of this map.
    pub fn insert(&mut self, key: K, id: u32) {
        let set = self.sets.entry(key).or_default();
        let index = id as usize;
        if self.position.len() <= index {
            self.position.resize(index + 1, 0);
        }
        self.position[index] = set.len() as u32;
        set.push(id);
    }

    /// Removes `id` from the set `key`; false if it was not there.
    pub fn remove(&mut self, key: K, id: u32) -> bool {
        let Some(set) = self.sets.get_mut(&key) else {
            return false;
        };
        let Some(&at) = self.position.get(id as usize) else {
            return false;
        };
        if set.get(at as usize) != Some(&id) {
            return false;
        }
        set.swap_remove(at as usize);
        if let Some(&moved) = set.get(at as usize) {
            self.position[moved as usize] = at;
        }
        if set.is_empty() {
            self.sets.remove(&key);
        }
        true
    }

    /// The members of the set `key` (empty if there is none).
    #[must_use]
    pub fn get(&self, key: &K) -> &[u32] {
        self.sets.get(key).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;
    use std::collections::{BTreeSet, HashMap as Model};

    quickcheck! {
        fn matches_a_model(ops: Vec<(u8, u8, bool)>) -> bool {
            let mut members: Members<u8> = Members::default();
            let mut owner: Model<u32, u8> = Model::new();
            for (key, id, insert) in ops {
                let id = u32::from(id);
                match (insert, owner.get(&id).copied()) {
                    (true, None) => { members.insert(key, id); owner.insert(id, key); }
                    (false, Some(k)) => { if !members.remove(k, id) { return false; } owner.remove(&id); }
                    (false, None) => { if members.remove(key, id) { return false; } }
                    (true, Some(_)) => {}
                }
            }
            (0..=255u8).all(|k| {
                let got: BTreeSet<u32> = members.get(&k).iter().copied().collect();
                let want: BTreeSet<u32> = owner.iter().filter(|(_, o)| **o == k).map(|(i, _)| *i).collect();
                got == want
            })
        }
    }
}
