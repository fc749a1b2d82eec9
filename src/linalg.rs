//! Dense products through faer, on ndarray matrices.
//!
//! ndarray's own `dot` (matrixmultiply) runs on one core; faer's GEMM uses both, with kernels
//! several times faster on this data. These helpers borrow ndarray's row-major buffers as faer
//! views, so nothing is copied.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2};

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

/// `a · bᵀ` (`n × m` from `n × d` and `m × d`), in parallel.
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
    faer::linalg::matmul::matmul(
        dst,
        Accum::Replace,
        fa,
        fb.transpose(),
        1.0f32,
        Par::rayon(0),
    );
    out
}

/// Adds `xᵀ x` to the lower triangle (diagonal included) of the symmetric `acc`
/// (`d × d`, from `x`: `n × d`), in parallel; half the work of a full product.
pub fn add_xtx_lower(acc: &mut Array2<f64>, x: ArrayView2<'_, f64>) {
    let d = x.ncols();
    assert_eq!(acc.dim(), (d, d), "acc is d × d");
    let mut owned = None;
    let fx = as_faer(&x, &mut owned);
    let dst = MatMut::from_row_major_slice_mut(acc.as_slice_mut().expect("standard layout"), d, d);
    triangular::matmul(
        dst,
        BlockStructure::TriangularLower,
        Accum::Add,
        fx.transpose(),
        BlockStructure::Rectangular,
        fx,
        BlockStructure::Rectangular,
        1.0f64,
        Par::rayon(0),
    );
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
