//! faer's x86-64 GEMM kernels return with the upper halves of the vector registers in use, and
//! the legacy-SSE code that runs next on that thread then pays a transition penalty (glibc's
//! `expf` ran 45× slower on the rayon workers, the RBF SVM 7×). The library clears that state
//! after every product (`src/linalg.rs`); these tests read it back with `XGETBV(1)` on every
//! thread that could have run a kernel.
//!
//! This file is its own test binary, and its one test runs the cases in turn, so no other test's
//! products run on the global rayon pool while it looks.

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::{__cpuid_count, _xgetbv};

use faer::{Accum, Mat, Par};
use fmnist::models::cnn::CnnParams;
use fmnist::models::knn;
use fmnist::pca::Pca;
use ndarray::Array2;

/// Whether the upper halves of the vector registers (YMM_Hi128 or ZMM_Hi256, XCR0 bits 2 and 6)
/// are in use on this thread; `None` where the CPU cannot say (no AVX, or no `XGETBV` with
/// `ECX = 1`).
fn upper_state_in_use() -> Option<bool> {
    if !std::arch::is_x86_feature_detected!("avx") || !std::arch::is_x86_feature_detected!("xsave")
    {
        return None;
    }
    // SAFETY: CPUID leaf 0xD exists wherever XSAVE does (checked above). (`__cpuid_count` is
    // a safe function from Rust 1.94; the block keeps older compilers of our MSRV building.)
    #[allow(unused_unsafe)]
    let leaf = unsafe { __cpuid_count(0xD, 1) };
    if leaf.eax & (1 << 2) == 0 {
        return None;
    }
    // SAFETY: XGETBV with ECX = 1 is supported (CPUID.(EAX=0DH,ECX=1):EAX[2], checked above).
    let in_use = unsafe { _xgetbv(1) };
    Some(in_use & (1 << 2 | 1 << 6) != 0)
}

/// The threads of the current rayon pool, and the calling thread, whose upper vector state is in
/// use.
fn dirty_threads() -> Vec<String> {
    let mut dirty: Vec<String> = rayon::broadcast(|c| {
        (upper_state_in_use() == Some(true)).then(|| format!("rayon worker {}", c.index()))
    })
    .into_iter()
    .flatten()
    .collect();
    if upper_state_in_use() == Some(true) {
        dirty.push("the calling thread".into());
    }
    dirty
}

/// One faer product straight from faer, with `par`, leaving whatever state its kernels leave.
fn raw_faer_product(par: Par) {
    let a = Mat::<f32>::from_fn(256, 256, |i, j| ((i * 7 + j) % 13) as f32);
    let mut c = Mat::<f32>::zeros(256, 256);
    faer::linalg::matmul::matmul(c.as_mut(), Accum::Replace, a.as_ref(), a.as_ref(), 1.0, par);
}

fn pixels(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 31 + j * 17 + seed) % 256) as f32
    })
}

#[test]
fn no_library_product_leaves_the_upper_vector_state_in_use() {
    if upper_state_in_use().is_none() {
        eprintln!("this CPU cannot report its vector state in use (XGETBV 1); nothing to check");
        return;
    }
    // The hazard itself: on CPUs whose faer kernels skip `vzeroupper`, a raw faer product leaves
    // workers dirty. Said, not required: other CPUs get other kernels.
    raw_faer_product(Par::rayon(0));
    let raw = dirty_threads();
    eprintln!("after a raw faer product: {raw:?} in use");

    // Parallel products, called from outside the pool: every worker is cleared.
    let (train, query) = (pixels(2000, 784, 1), pixels(600, 784, 2));
    knn::nearest(train.view(), query.view(), 5);
    assert_eq!(dirty_threads(), Vec::<String>::new(), "after knn::nearest");

    raw_faer_product(Par::rayon(0));
    Pca::fit(pixels(1500, 300, 3).view()).unwrap();
    assert_eq!(dirty_threads(), Vec::<String>::new(), "after Pca::fit");

    // Inside a rayon worker, the product runs on that thread and clears it.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let inside = pool.install(|| {
        raw_faer_product(Par::Seq);
        let before = upper_state_in_use();
        knn::nearest(train.view(), query.view(), 5);
        (before, upper_state_in_use())
    });
    eprintln!(
        "inside a worker, before the library's product: {:?}",
        inside.0
    );
    assert_eq!(inside.1, Some(false), "a worker after knn::nearest");

    // The CNN's single-threaded products, on the shards' worker threads (clean before it).
    let images = Array2::from_shape_fn((128, 784), |(i, j)| ((i * 13 + j * 7) % 256) as u8);
    let labels: Vec<u8> = (0..128).map(|i| (i % 10) as u8).collect();
    let params = CnnParams {
        conv1: 4,
        conv2: 4,
        hidden: 8,
        ..CnnParams::new(1, 7)
    };
    params
        .train(images.view(), &labels, None, |_| {}, || {})
        .unwrap();
    assert_eq!(dirty_threads(), Vec::<String>::new(), "after a CNN epoch");
}
