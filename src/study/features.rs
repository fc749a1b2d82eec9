//! The 84 engineered features of section 2 as CSV files, for other tools: those of the study's
//! seeded training sample and of the test images, label first.

use crate::data::Split;
use crate::features::{feature_names, FeatureParams, LineSummary};
use crate::report::{Cell, Table};
use crate::study::{require_per_class, Section, Study, StudyError, TableFile};

/// Which features to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureTablesParams {
    /// Training images sampled per class (the study: 1,001).
    pub per_class: usize,
    /// Which rows and columns count as empty in the row and column summaries.
    pub line_summary: LineSummary,
    /// Seed of the sample.
    pub seed: u64,
}

impl Default for FeatureTablesParams {
    fn default() -> Self {
        FeatureTablesParams {
            per_class: 1_001,
            line_summary: LineSummary::AllWhite,
            seed: 42,
        }
    }
}

/// The features of the training sample and of the test images.
#[derive(Debug, Clone)]
pub struct FeatureTables {
    /// The settings they were computed with.
    pub params: FeatureTablesParams,
    /// The training sample's features, label first.
    pub train: Table,
    /// The test images' features, label first.
    pub test: Table,
}

/// One row per image of `split`: its label, then its features (ten decimals).
fn features_table(builder: &FeatureParams, split: &Split) -> Table {
    let x = builder.transform(split.images());
    let mut t =
        Table::new(std::iter::once("label").chain(feature_names().iter().map(String::as_str)));
    for (row, &label) in x.rows().into_iter().zip(split.labels()) {
        t.push(
            std::iter::once(Cell::from(usize::from(label)))
                .chain(row.iter().map(|&v| Cell::fixed(v, 10))),
        );
    }
    t
}

impl Section for FeatureTables {
    type Params = FeatureTablesParams;
    const TITLE: &'static str = "Section 2: the engineered features as CSV";
    const FIGURES: &'static [u8] = &[];

    fn default_params(study: &Study) -> FeatureTablesParams {
        FeatureTablesParams {
            seed: study.seed(),
            ..FeatureTablesParams::default()
        }
    }

    fn params(&self) -> &FeatureTablesParams {
        &self.params
    }

    fn check(study: &Study, p: &FeatureTablesParams) -> Result<(), StudyError> {
        require_per_class(study, p.per_class)
    }

    fn run(study: &mut Study, params: &FeatureTablesParams) -> Result<Self, StudyError> {
        let data = study.data();
        let builder = FeatureParams::default().with_line_summary(params.line_summary);
        let sample = data
            .train
            .stratified_sample(params.per_class, params.seed)?;
        Ok(FeatureTables {
            params: *params,
            train: features_table(&builder, &sample),
            test: features_table(&builder, &data.test),
        })
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("features_train.csv", self.train.to_csv()),
            TableFile::new("features_test.csv", self.test.to_csv()),
        ]
    }
}
