//! A slab of connections addressed by generation-checked tokens.
//!
//! A `mio::Token` is `generation << 32 | index`. When a slot is freed its generation
//! is bumped, so an event or timer that still names the old connection finds nothing
//! instead of the next connection that happens to reuse the slot.

/// A slot index plus the generation it was issued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key(usize);

impl Key {
    pub(crate) fn from_token(token: usize) -> Key {
        Key(token)
    }
    pub(crate) fn token(self) -> usize {
        self.0
    }
    fn index(self) -> usize {
        self.0 & 0xffff_ffff
    }
    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

#[derive(Debug)]
enum Slot<T> {
    Occupied { generation: u32, value: T },
    Vacant { generation: u32 },
}

#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    len: usize,
    /// Token values at or above this are never issued (reserved for the listener and
    /// waker); the generation is kept below it.
    reserved_from_generation: u32,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            reserved_from_generation: u32::MAX >> 1,
        }
    }

    /// Bytes one slot takes in the slab's table (the value itself and its tag).
    #[cfg(test)]
    pub(crate) const SLOT_BYTES: usize = std::mem::size_of::<Slot<T>>();

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let generation = match self.slots[index] {
                Slot::Vacant { generation } => generation,
                Slot::Occupied { .. } => unreachable!("free list names an occupied slot"),
            };
            self.slots[index] = Slot::Occupied { generation, value };
            Key((generation as usize) << 32 | index)
        } else {
            let index = self.slots.len();
            self.slots.push(Slot::Occupied {
                generation: 0,
                value,
            });
            Key(index)
        }
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index()) {
            Some(Slot::Occupied { generation, value }) if *generation == key.generation() => {
                Some(value)
            }
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index())?;
        match slot {
            Slot::Occupied { generation, .. } if *generation == key.generation() => {
                let next = (*generation + 1) % self.reserved_from_generation;
                let old = std::mem::replace(slot, Slot::Vacant { generation: next });
                self.free.push(key.index());
                self.len -= 1;
                match old {
                    Slot::Occupied { value, .. } => Some(value),
                    Slot::Vacant { .. } => None,
                }
            }
            _ => None,
        }
    }

    /// Every occupied key (for shutdown only: this scans the slab).
    pub(crate) fn keys(&self) -> Vec<Key> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Occupied { generation, .. } => Some(Key((*generation as usize) << 32 | i)),
                Slot::Vacant { .. } => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_find_nothing() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        assert_eq!(slab.get_mut(a), Some(&mut "a"));
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        // Same slot, new generation.
        assert_eq!(a.index(), b.index());
        assert_ne!(a, b);
        assert_eq!(slab.get_mut(a), None);
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get_mut(b), Some(&mut "b"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn slots_are_reused() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..10).map(|i| slab.insert(i)).collect();
        for k in &keys {
            slab.remove(*k);
        }
        for i in 0..10 {
            slab.insert(i);
        }
        assert_eq!(slab.slots.len(), 10);
        assert_eq!(slab.keys().len(), 10);
    }
}
