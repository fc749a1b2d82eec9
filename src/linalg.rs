//! Dense linear algebra through faer, on ndarray matrices.
//!
//! ndarray's own `dot` (matrixmultiply) runs on one core; faer's GEMM uses both, with kernels
//! several times faster on this data. These helpers borrow ndarray's row-major buffers as faer
//! views, so nothing is copied.
//!
//! Every call into faer in this crate goes through this module, because of one hazard:
//! faer's x86-64 GEMM kernels (the `private-gemm-x86` crate, hand-written assembly) return with
//! the upper halves of the AVX/AVX-512 registers still marked in use: no `vzeroupper`, which the
//! x86-64 calling convention expects before code that is not AVX-aware runs. This crate is
//! compiled for baseline x86-64, so its own float code is legacy SSE, and on recent Intel cores
//! every SSE instruction on such a thread then pays a transition penalty. Measured on the 2-core
//! Xeon machines this project runs on: glibc's `expf` in a loop ran 45× slower on the rayon
//! workers after one faer GEMM (9.1 s instead of 0.20 s for 5·10⁷ calls), which made the RBF
//! SVM's cross-validation 7× slower and Gaussian naive Bayes 18× slower. So each helper here
//! clears that state afterwards ([`clear_upper_vector_state`]) on every thread faer ran on.
//!
//! Which threads those are is kept simple by one rule ([`parallelism`]): called from a rayon
//! worker (a cross-validation fold, one of the SVM's class pairs), where the caller has already
//! spread the work over the cores, a product runs on that thread alone; called from outside
//! the pool, it runs on the whole pool, and no other work of ours runs there meanwhile. A
//! parallel product inside a worker could instead leave a kernel's dirty state on another
//! worker, in the middle of that worker's own task, until it next went idle.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2};

/// Marks the upper halves of the vector registers as unused (`vzeroupper`) on the calling
/// thread, ending any AVX/SSE transition penalty left by assembly that skipped it. A no-op on
/// CPUs without AVX (which cannot have dirtied that state) and off x86-64.
pub fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is present (checked just above), which is all `vzeroupper` needs; it
        // only zeroes bits 128 and up of the vector registers, which hold no live value
        // between these calls: nothing compiled for baseline x86-64 keeps any there.
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}

/// How a product runs: on this thread alone inside a rayon worker (its caller already spread
/// the work over the cores), on the whole pool from outside it.
fn parallelism() -> Par {
    if rayon::current_thread_index().is_some() {
        Par::Seq
    } else {
        Par::rayon(0)
    }
}

/// [`clear_upper_vector_state`] on every thread a product run with `par` used: the calling
/// thread, and for [`Par::Rayon`] every thread of the pool.
fn clear_upper_vector_state_after(par: Par) {
    clear_upper_vector_state();
    if matches!(par, Par::Rayon(_)) {
        rayon::broadcast(|_| clear_upper_vector_state());
    }
}

/// A standard-layout (row-major, contiguous) view as a faer matrix; copies only when the view
/// is not contiguous.
fn as_faer<'a, T: Copy + 'static>(
    a: &'a ArrayView2<'_, T>,
    owned: &'a mut Option<Array2<T>>,
) -> MatRef<'a, T> {
    let (rows, cols) = a.dim();
    let slice = match a.as_slice() {
        Some(s) => s,
        None => owned
            .insert(a.as_standard_layout().into_owned())
            .as_slice()
            .expect("standard layout"),
    };
    MatRef::from_row_major_slice(slice, rows, cols)
}

/// `a · bᵀ` (`n × m` from `n × d` and `m × d`), in parallel outside a rayon worker.
pub fn a_bt(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f32> {
    assert_eq!(
        a.ncols(),
        b.ncols(),
        "a and b need the same number of columns"
    );
    let (mut oa, mut ob) = (None, None);
    let (fa, fb) = (as_faer(&a, &mut oa), as_faer(&b, &mut ob));
    let mut out = Array2::<f32>::zeros((a.nrows(), b.nrows()));
    let (n, m) = out.dim();
    let dst = MatMut::from_row_major_slice_mut(out.as_slice_mut().expect("fresh array"), n, m);
    let par = parallelism();
    faer::linalg::matmul::matmul(dst, Accum::Replace, fa, fb.transpose(), 1.0f32, par);
    clear_upper_vector_state_after(par);
    out
}

/// `dst = a · b` (or `dst += a · b` with [`Accum::Add`]) on the calling thread only: for work
/// that is already spread over the cores one piece per thread.
pub fn matmul_seq(dst: MatMut<'_, f32>, accum: Accum, a: MatRef<'_, f32>, b: MatRef<'_, f32>) {
    faer::linalg::matmul::matmul(dst, accum, a, b, 1.0f32, Par::Seq);
    clear_upper_vector_state();
}

/// Adds `xᵀ x` to the lower triangle (diagonal included) of the symmetric `acc`
/// (`d × d`, from `x`: `n × d`), in parallel outside a rayon worker; half the work of a full
/// product.
pub fn add_xtx_lower(acc: &mut Array2<f64>, x: ArrayView2<'_, f64>) {
    let d = x.ncols();
    assert_eq!(acc.dim(), (d, d), "acc is d × d");
    let mut owned = None;
    let fx = as_faer(&x, &mut owned);
    let dst = MatMut::from_row_major_slice_mut(acc.as_slice_mut().expect("standard layout"), d, d);
    let par = parallelism();
    triangular::matmul(
        dst,
        BlockStructure::TriangularLower,
        Accum::Add,
        fx.transpose(),
        BlockStructure::Rectangular,
        fx,
        BlockStructure::Rectangular,
        1.0f64,
        par,
    );
    clear_upper_vector_state_after(par);
}

/// The eigenvalues (ascending) and unit eigenvectors (columns) of the symmetric `d × d` matrix
/// whose lower triangle (diagonal included) is `lower`; the upper triangle is not read.
pub fn symmetric_eigen(
    lower: &Array2<f64>,
) -> Result<(Vec<f64>, Array2<f64>), faer::linalg::evd::EvdError> {
    let d = lower.nrows();
    assert_eq!(lower.dim(), (d, d), "a square matrix");
    let a = faer::Mat::<f64>::from_fn(d, d, |i, j| lower[[i.max(j), i.min(j)]]);
    // The decomposition runs with faer's global parallelism (the rayon pool by default).
    let eig = a.self_adjoint_eigen(faer::Side::Lower);
    clear_upper_vector_state_after(faer::get_global_parallelism());
    let eig = eig?;
    let values = eig.S().column_vector().iter().copied().collect();
    let vectors = Array2::from_shape_fn((d, d), |(i, j)| eig.U()[(i, j)]);
    Ok((values, vectors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_bt_matches_ndarray() {
        let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0f32, 0.0, 1.0], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]];
        assert_eq!(a_bt(a.view(), b.view()), a.dot(&b.t()));
        // A non-contiguous view is copied, not misread.
        let at = a.t();
        let c = a_bt(at.view(), at.view());
        assert_eq!(c, at.dot(&a));
    }

    #[test]
    fn xtx_fills_the_lower_triangle() {
        let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let mut acc = Array2::zeros((2, 2));
        add_xtx_lower(&mut acc, x.view());
        add_xtx_lower(&mut acc, x.view());
        let full = x.t().dot(&x) * 2.0;
        assert_eq!(acc[[0, 0]], full[[0, 0]]);
        assert_eq!(acc[[1, 0]], full[[1, 0]]);
        assert_eq!(acc[[1, 1]], full[[1, 1]]);
    }
}
