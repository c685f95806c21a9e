//! The missing index: entries in (block, column, row) order, found again by position and by
//! column, and rebuilt correctly when one image's mask changes, in any block.

use super::state::{INDEX_BLOCK, MissingIndex};
use super::{GibbsSampler, Problem, SamplerSettings};

/// Three blocks, the last one short.
const N: usize = 2 * INDEX_BLOCK + 300;
const D: usize = 9;

fn mask(salt: usize) -> Vec<bool> {
    (0..N * D)
        .map(|k| ((k + salt) * 2654435761usize) % 101 < 30)
        .collect()
}

#[test]
fn entries_are_sorted_by_block_then_column_then_row_and_found_again() {
    let full = mask(0);
    let idx = MissingIndex::from_row_major(N, D, &full);
    assert_eq!(idx.len(), full.iter().filter(|&&m| m).count());
    assert_eq!(idx.blocks(), 3);
    let key = |k: usize| {
        let (i, j) = (idx.rows()[k] as usize, idx.cols()[k] as usize);
        (i / INDEX_BLOCK, j, i)
    };
    assert!((1..idx.len()).all(|k| key(k - 1) < key(k)));
    assert_eq!(idx.span(0..idx.blocks()), 0..idx.len());
    for b in 0..idx.blocks() {
        for j in 0..D {
            for k in idx.segment(b, j) {
                assert_eq!(idx.cols()[k] as usize, j);
                assert!(idx.block_rows(b).contains(&(idx.rows()[k] as usize)));
            }
        }
    }
    for i in 0..N {
        for j in 0..D {
            match idx.position(i, j) {
                Some(k) => {
                    assert!(full[i * D + j]);
                    assert_eq!((idx.rows()[k] as usize, idx.cols()[k] as usize), (i, j));
                }
                None => assert!(!full[i * D + j], "({i}, {j}) is missing but not found"),
            }
        }
    }
    for j in 0..D {
        let rows: Vec<u32> = (0..N as u32)
            .filter(|&i| full[i as usize * D + j])
            .collect();
        let entries: Vec<(usize, u32)> = idx.column_entries(j).collect();
        assert_eq!(entries.iter().map(|e| e.1).collect::<Vec<_>>(), rows);
        assert!(
            entries
                .iter()
                .all(|&(k, i)| idx.position(i as usize, j) == Some(k))
        );
        assert_eq!(idx.column_len(j), rows.len());
        // A range of images across a block boundary.
        let some: Vec<u32> = idx.column_entries_in(j, 1000..2100).map(|e| e.1).collect();
        let expected: Vec<u32> = rows
            .into_iter()
            .filter(|&i| (1000..2100).contains(&i))
            .collect();
        assert_eq!(some, expected);
    }
}

#[test]
fn a_new_mask_for_one_image_equals_the_index_built_again() {
    let full = mask(0);
    let idx = MissingIndex::from_row_major(N, D, &full);
    for (image, salt) in [(0, 1), (1500, 2), (N - 1, 3), (INDEX_BLOCK, 4)] {
        let row: Vec<bool> = mask(salt)[..D].to_vec();
        let mut changed = full.clone();
        changed[image * D..(image + 1) * D].copy_from_slice(&row);
        assert_eq!(
            idx.with_row(image, &row),
            MissingIndex::from_row_major(N, D, &changed),
            "image {image}"
        );
    }
}

#[test]
fn the_truth_follows_a_mask_change_in_any_block() {
    let x: Vec<f32> = (0..N * D).map(|k| (k % 251) as f32).collect();
    let problem = Problem {
        n: N,
        d: D,
        x_observed: x.clone(),
        missing: mask(0),
        x_true: Some(x.clone()),
    };
    let settings = SamplerSettings {
        seed: 3,
        ..SamplerSettings::default()
    };
    let mut s = GibbsSampler::new(&problem, &settings).unwrap();
    s.sweep();
    for (image, salt) in [(1500, 5), (N - 1, 6), (2, 7)] {
        let row: Vec<bool> = mask(salt)[..D].to_vec();
        s.set_image_mask(image, &row, &x[image * D..(image + 1) * D])
            .unwrap();
        s.sweep();
        let idx = s.state().missing();
        let truth = s.truth_missing().unwrap();
        assert_eq!(truth.len(), idx.len());
        for (k, &t) in truth.iter().enumerate() {
            let (i, j) = (idx.rows()[k] as usize, idx.cols()[k] as usize);
            assert_eq!(t, x[i * D + j], "entry {k} after image {image}");
        }
    }
}
