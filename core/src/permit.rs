//! Slots that are handed out and must come back exactly once.
//!
//! Breaker probes and bulkhead places are slots. A taken slot is named by a [`SlotToken`]
//! that packs the slot index and the slot's generation, so a token given back twice, or a
//! token from before a reset, is recognised and refused instead of corrupting the counts.
//! All storage is allocated up front: taking and giving back never allocate.

use crate::error::{Result, SeawallError};

const SLOT_BITS: u32 = 20;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Generations wrap within 32 bits so a token fits in 52 bits (exact as a JS number).
const GEN_MASK: u64 = 0xFFFF_FFFF;

/// An outstanding slot: `generation << 20 | slot`.
pub type SlotToken = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTable {
    /// Per slot: its generation, and whether it is taken.
    generation: Box<[u32]>,
    taken: Box<[bool]>,
    free: Vec<u32>,
}

impl SlotTable {
    pub fn new(size: u32) -> Self {
        SlotTable {
            generation: vec![0; size as usize].into_boxed_slice(),
            taken: vec![false; size as usize].into_boxed_slice(),
            // Reversed so slot 0 is handed out first (readable traces).
            free: {
                let mut free = Vec::new();
                for slot in (0..size).rev() {
                    free.push(slot);
                }
                free
            },
        }
    }

    pub fn capacity(&self) -> u32 {
        self.taken.len() as u32
    }

    pub fn in_use(&self) -> u32 {
        self.capacity() - self.free.len() as u32
    }

    pub fn available(&self) -> u32 {
        self.free.len() as u32
    }

    pub fn take(&mut self) -> Option<SlotToken> {
        let slot = self.free.pop()?;
        self.taken[slot as usize] = true;
        Some(((self.generation[slot as usize] as u64) << SLOT_BITS) | slot as u64)
    }

    /// Gives a slot back; refuses unknown, stale or already returned tokens.
    pub fn give_back(&mut self, token: SlotToken, what: &str) -> Result<()> {
        let slot = (token & SLOT_MASK) as usize;
        let gen = ((token >> SLOT_BITS) & GEN_MASK) as u32;
        if token >> (SLOT_BITS + 32) != 0 || slot >= self.taken.len() || !self.taken[slot] || self.generation[slot] != gen {
            return Err(SeawallError::invalid_permit(what));
        }
        self.taken[slot] = false;
        self.generation[slot] = self.generation[slot].wrapping_add(1);
        self.free.push(slot as u32);
        Ok(())
    }

    /// Whether `token` names a slot that is taken now.
    pub fn is_outstanding(&self, token: SlotToken) -> bool {
        let slot = (token & SLOT_MASK) as usize;
        token >> (SLOT_BITS + 32) == 0
            && slot < self.taken.len()
            && self.taken[slot]
            && self.generation[slot] as u64 == (token >> SLOT_BITS) & GEN_MASK
    }

    /// Frees every slot; tokens handed out before are stale from now on.
    pub fn clear(&mut self) {
        self.free.clear();
        for slot in (0..self.taken.len()).rev() {
            if self.taken[slot] {
                self.taken[slot] = false;
                self.generation[slot] = self.generation[slot].wrapping_add(1);
            }
            self.free.push(slot as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_back_once() {
        let mut t = SlotTable::new(2);
        let a = t.take().unwrap();
        let b = t.take().unwrap();
        assert!(t.take().is_none());
        t.give_back(a, "permit").unwrap();
        assert!(t.give_back(a, "permit").is_err());
        let c = t.take().unwrap();
        assert_ne!(a, c, "a reused slot has a new generation");
        assert!(t.give_back(a, "permit").is_err());
        t.clear();
        assert!(t.give_back(b, "permit").is_err());
        assert!(t.give_back(c, "permit").is_err());
        assert_eq!(t.available(), 2);
        assert!(t.give_back(u64::MAX, "permit").is_err());
    }

    #[test]
    fn outstanding_means_taken_now_with_this_generation() {
        let mut t = SlotTable::new(3);
        assert_eq!((t.capacity(), t.in_use(), t.available()), (3, 0, 3));
        let a = t.take().unwrap();
        let b = t.take().unwrap();
        assert_eq!((a, b), (0, 1), "slot 0 first, generation 0");
        assert_eq!((t.in_use(), t.available()), (2, 1));
        assert!(t.is_outstanding(a) && t.is_outstanding(b));
        assert!(!t.is_outstanding(2), "a free slot");
        assert!(!t.is_outstanding(3), "beyond the table");
        assert!(!t.is_outstanding(a | 1 << 52), "bits above the generation");
        assert!(t.give_back(a | 1 << 52, "permit").is_err());
        assert!(!t.is_outstanding(a | 1 << SLOT_BITS), "another generation");
        assert!(t.give_back(a | 1 << SLOT_BITS, "permit").is_err());
        assert!(t.give_back(5, "permit").is_err());
        t.give_back(a, "permit").unwrap();
        assert!(!t.is_outstanding(a));
        assert_eq!(t.take(), Some(1 << SLOT_BITS), "slot 0 again, next generation");
        t.clear();
        assert_eq!((t.in_use(), t.available()), (0, 3));
        assert!(!t.is_outstanding(b));
        // After a clear, slots go out from 0 again; only the ones that were taken moved on.
        assert_eq!([t.take(), t.take(), t.take()], [Some(2 << SLOT_BITS), Some(1 << SLOT_BITS | 1), Some(2)]);
        let e = t.give_back(b, "half-open permit").unwrap_err();
        assert!(e.message.contains("half-open permit"), "{}", e.message);
    }
}
