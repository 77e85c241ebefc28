//! Train on MNIST, forget every "3", evaluate (the README's Rust example).
//!
//!   cargo run --example forget_class -- data/mnist
use fnn::{Dataset, ForgetOptions, ForgetRequest, Model, TrainOptions};

fn main() -> Result<(), fnn::Error> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/mnist".to_string());
    let train = Dataset::load_dir(&dir, "train")?;
    let test = Dataset::load_dir(&dir, "test")?;
    let (pool, holdout) = train.split(0.9, 1)?; // holdout: never trained on

    let mut model = Model::new("mlp", 1)?;
    let mut recipe = TrainOptions::preset("mlp")?;
    recipe.set("epochs", 3.0)?;
    model.train(&pool, Some(&recipe))?;
    println!("test accuracy {:.4}", model.evaluate(&test)?.0);

    let request = ForgetRequest::from_class(&pool, 3)?;
    let report = model.forget(
        &request,
        Some(&holdout),
        Some(&ForgetOptions::method("fnn")?),
    )?;
    println!(
        "forget set {:.4} -> {:.4}",
        report.get("forget-acc-before")?,
        report.get("forget-acc-after")?
    );
    let (per_class, _) = model.class_accuracies(&test)?;
    println!("test accuracy of class 3 {:.4}", per_class[3]);
    Ok(())
}
