//! The committed notebooks, as a reader browses them on a forge without running anything: the
//! outputs of one whole run, top to bottom. Editing a cell and clearing its outputs instead of
//! running the notebook again (`notebooks/run.py --inplace`) left notebooks 01 to 05 without
//! their first figure, tables and confusion matrices for a while; this fails on that.

mod common;

/// The text of every output of `cell` (streams, errors and text results).
fn texts(cell: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for output in cell["outputs"].as_array().into_iter().flatten() {
        out.push(common::joined(&output["text"]));
        out.push(common::joined(&output["evalue"]));
        out.push(common::joined(&output["data"]["text/plain"]));
    }
    out
}

#[test]
fn every_committed_notebook_shows_one_whole_run() {
    let found = common::notebooks();
    assert!(found.len() >= 6, "{} notebooks", found.len());
    for (name, nb) in found {
        let cells = nb["cells"].as_array().unwrap();
        let code: Vec<_> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
        for (i, cell) in code.iter().enumerate() {
            let id = cell["id"].as_str().unwrap_or("?");
            assert_eq!(
                cell["execution_count"].as_u64(),
                Some(i as u64 + 1),
                "{name}, cell {id}: not the output of one run from the top (run it with \
                 notebooks/run.py --inplace)"
            );
            assert!(
                !cell["outputs"].as_array().unwrap().is_empty(),
                "{name}, cell {id}: no output"
            );
            assert!(
                cell["outputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|o| o["output_type"] != "error"),
                "{name}, cell {id}: an error"
            );
            assert!(
                texts(cell).iter().all(|t| !t.contains("panicked at")),
                "{name}, cell {id}: a panic"
            );
        }
        let figures = code
            .iter()
            .flat_map(|c| c["outputs"].as_array().unwrap())
            .filter(|o| o["data"]["image/png"].is_string())
            .count() as u64;
        let expected = nb["metadata"]["fmnist"]["figures"].as_u64().unwrap();
        assert!(
            figures >= expected,
            "{name}: {figures} inline figures, {expected} expected"
        );
    }
}
