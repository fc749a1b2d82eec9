//! A file cannot make the IDX reader reserve memory for data it does not hold: a header that
//! declares the largest payload allowed (1 GiB) over a few bytes is refused as truncated, and
//! no allocation along the way is larger than the initial reservation (64 MiB).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use fmnist::data::idx::{read, IdxError, IdxKind, MAX_PAYLOAD_BYTES};

/// The system allocator, remembering the largest single request.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the same layout, passed on to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: as for `GlobalAlloc::realloc`, passed on to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

#[test]
fn a_header_declaring_a_gibibyte_over_a_few_bytes_reserves_no_gibibyte() {
    let count = u32::try_from(MAX_PAYLOAD_BYTES).unwrap();
    let mut file = Vec::new();
    file.extend(2049u32.to_be_bytes());
    file.extend(count.to_be_bytes());
    file.extend([1, 2, 3]);
    LARGEST.store(0, Ordering::Relaxed);
    let err = read(&file[..], IdxKind::Labels).unwrap_err();
    assert!(
        matches!(err, IdxError::Truncated { present: 3, .. }),
        "{err}"
    );
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest <= 64 << 20, "an allocation of {largest} bytes");
}
