//! The safe crate against the library of the build tree (meson test sets
//! PKG_CONFIG_PATH and LD_LIBRARY_PATH): names from the library, data sets
//! over slices, training, inference, files, every unlearning method,
//! cancellation, membership inference.
use fnn::{
    Dataset, Error, Features, ForgetOptions, ForgetRequest, Model, Names, Shape, TrainOptions,
};
use std::collections::BTreeSet;
use std::panic;

const SPEC: &str = "input:4x4x1,dense:16,relu,dense:4";

/// n images of 4 x 4 bytes in 4 classes: class c lights quadrant c.
fn blobs(n: usize, seed: u64) -> (Vec<u8>, Vec<i32>) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let mut x = vec![0u8; n * 16];
    let mut y = vec![0i32; n];
    for i in 0..n {
        let c = (i % 4) as i32;
        y[i] = c;
        let (r, q) = ((c / 2) as usize, (c % 2) as usize);
        for row in 0..4 {
            for col in 0..4 {
                let lit = row / 2 == r && col / 2 == q;
                x[i * 16 + row * 4 + col] = (next() % 60) as u8 + if lit { 180 } else { 0 };
            }
        }
    }
    (x, y)
}

fn trained(ds: &Dataset<'_>) -> Model {
    let mut m = Model::new(SPEC, 3).unwrap();
    let mut o = TrainOptions::new().unwrap();
    o.set("epochs", 5.0)
        .unwrap()
        .set("lr", 0.01)
        .unwrap()
        .set("batch", 32.0)
        .unwrap();
    m.train(ds, Some(&o)).unwrap();
    m
}

fn shape() -> Shape {
    Shape::new(4, 4, 1)
}

#[test]
fn every_header_function_is_declared() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../..");
    let header = std::fs::read_to_string(format!("{}/include/fnn/fnn.h", root)).unwrap();
    let sys =
        std::fs::read_to_string(format!("{}/bindings/rust/fnn-sys/src/lib.rs", root)).unwrap();
    let declared: BTreeSet<String> = header
        .split("FNN_API")
        .skip(1)
        .filter_map(|d| {
            let head = &d[..d.find('(')?];
            head.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("fnn_"))
                .next_back()
                .map(str::to_string)
        })
        .collect();
    assert!(declared.len() > 100);
    let bound: BTreeSet<String> = sys
        .split("pub fn ")
        .skip(1)
        .map(|d| d[..d.find('(').unwrap()].trim().to_string())
        .collect();
    let missing: Vec<_> = declared.difference(&bound).collect();
    assert!(missing.is_empty(), "not declared in fnn-sys: {:?}", missing);
    let extra: Vec<_> = bound.difference(&declared).collect();
    assert!(extra.is_empty(), "not in fnn.h: {:?}", extra);
}

#[test]
fn names_and_keys_come_from_the_library() {
    assert_eq!(fnn::library_version(), env!("CARGO_PKG_VERSION"));
    let methods = fnn::methods();
    assert!(methods.contains(&"neggrad".to_string()) && methods.contains(&"retrain".to_string()));
    assert_eq!(fnn::lookup(Names::Method, &methods[2]).unwrap(), 2);
    let keys = fnn::train_keys();
    let epochs = keys.iter().find(|k| k.name == "epochs").unwrap();
    assert_eq!((epochs.lo, epochs.hi, epochs.integer()), (1.0, 1e6, true));
    assert_eq!(epochs.domain, "an integer in 1..1000000");
    assert_eq!(keys.len(), fnn::names(Names::TrainKey).len());
    let method = fnn::forget_keys()
        .into_iter()
        .find(|k| k.name == "method")
        .unwrap();
    assert!(method.named() && method.names_kind == Names::Method as i32);
    let shadows = fnn::attack_keys()
        .into_iter()
        .find(|k| k.name == "shadows")
        .unwrap();
    assert_eq!(shadows.domain, "an integer in 1..4096");
    match fnn::lookup(Names::Policy, "sometimes") {
        Err(Error::UnknownName(m)) => {
            assert!(m.contains("fixed, ordered, rank, topk, random"), "{}", m)
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mut o = TrainOptions::preset("mlp").unwrap();
    assert_eq!(o.get("lr").unwrap(), 0.05);
    assert_eq!(
        o.get("optimizer").unwrap(),
        fnn::lookup(Names::Optimizer, "sgd").unwrap() as f64
    );
    o.set_u64("seed", u64::MAX - 1).unwrap();
    assert_eq!(o.get_u64("seed").unwrap(), u64::MAX - 1);
    let e = o.set("epochs", 0.0).unwrap_err();
    assert_eq!(e.status(), -2);
    assert!(e.message().contains("an integer in 1..1000000"), "{}", e);
    assert!(matches!(o.set("epoch", 1.0), Err(Error::UnknownName(_))));
}

#[test]
fn borrowed_bytes_are_scaled_as_idx() {
    let x: Vec<u8> = (0..=255).collect();
    let ds = Dataset::borrow(Features::U8(&x), None, shape(), 0).unwrap();
    assert_eq!(
        (ds.len(), ds.has_labels(), ds.num_classes()),
        (16, false, 0)
    );
    let f = ds.features().unwrap();
    for (b, v) in x.iter().zip(f) {
        assert_eq!(v.to_bits(), (*b as f32 * (1.0f32 / 255.0)).to_bits());
    }
    assert!(matches!(ds.labels(), Err(Error::State(_))));
    let e = Dataset::borrow(Features::U8(&x[..15]), None, shape(), 0)
        .err()
        .unwrap();
    assert!(matches!(e, Error::Shape(_)));
    let bad = vec![0, 1, 2, 9];
    let e = Dataset::borrow(Features::U8(&x[..64]), Some(&bad), shape(), 4)
        .err()
        .unwrap();
    assert_eq!(
        e,
        Error::Range("borrow_arrays: label 9 at sample 3 is outside [0, 4)".into())
    );
    let nan = vec![f32::NAN; 16];
    let e = Dataset::copy(Features::F32(&nan), None, shape(), 0)
        .err()
        .unwrap();
    assert_eq!(
        e,
        Error::Numeric("from_arrays: feature 0 of sample 0 is NaN".into())
    );
}

#[test]
fn trains_predicts_and_round_trips() {
    let (x, y) = blobs(400, 1);
    let ds = Dataset::borrow(Features::U8(&x), Some(&y), shape(), 4).unwrap();
    let m = trained(&ds);
    let (acc, loss) = m.evaluate(&ds).unwrap();
    assert!(acc > 0.9 && loss < 1.0, "{} {}", acc, loss);
    assert_eq!(
        m.predict(&ds).unwrap(),
        m.predict_array(Features::U8(&x)).unwrap()
    );
    assert_eq!(
        m.predict_proba(&ds).unwrap(),
        m.predict_proba_array(Features::U8(&x)).unwrap()
    );
    assert_eq!(
        m.logits(&ds).unwrap(),
        m.logits_array(Features::U8(&x)).unwrap()
    );
    assert_eq!(
        m.sample_losses(&ds).unwrap(),
        m.sample_losses_array(Features::U8(&x), &y).unwrap()
    );
    let (per_class, counts) = m.class_accuracies(&ds).unwrap();
    assert_eq!(counts, vec![100; 4]);
    assert!((per_class.iter().sum::<f64>() / 4.0 - acc).abs() < 1e-12);
    let bytes = m.to_bytes().unwrap();
    let back = Model::from_bytes(&bytes).unwrap();
    assert_eq!(back.params().unwrap(), m.params().unwrap());
    let path = std::env::temp_dir().join(format!("fnn-rust-{}.fnn", std::process::id()));
    m.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let loaded = Model::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.spec(), "input:4x4x1,dense:16,relu,dense:4");
    let (opts, seed, samples) = m.recipe().unwrap();
    assert_eq!((seed, samples, opts.get("epochs").unwrap()), (3, 400, 5.0));
    let mut again = m.try_clone().unwrap();
    again.retrain(&ds, None).unwrap();
    assert_eq!(again.params().unwrap(), m.params().unwrap());
    assert!(matches!(
        Model::load("/nonexistent/m.fnn"),
        Err(Error::Io(_))
    ));
    assert!(matches!(
        Model::new("input:4,dense:0", 1),
        Err(Error::Spec(_))
    ));
    let bare = Dataset::borrow(Features::U8(&x), None, shape(), 0).unwrap();
    assert!(matches!(m.evaluate(&bare), Err(Error::State(_))));
    // Forgetting state.
    let mut f = m.try_clone().unwrap();
    assert_eq!(f.num_forgetting_layers(), 2);
    f.set_tau(0, &[2.0; 16]).unwrap();
    f.set_decay(0, true).unwrap();
    f.set_clock(2).unwrap();
    assert!(f
        .decay_factors(0)
        .unwrap()
        .iter()
        .all(|v| (v - (-1.0f32).exp()).abs() < 1e-6));
    f.fold_decay().unwrap();
    assert_eq!((f.clock(), f.decay_enabled(0).unwrap()), (0, false));
    let mut ranks = f.rank_neurons(&ds, 0).unwrap();
    ranks.sort();
    assert_eq!(ranks, (1..=16).collect::<Vec<u32>>());
    f.apply_policy("ordered", None, 0.0, 0).unwrap();
    assert_eq!(f.tau(0).unwrap()[15], 16.0);
}

#[test]
fn every_method_forgets_through_one_call() {
    let (x, y) = blobs(600, 2);
    let all = Dataset::borrow(Features::U8(&x), Some(&y), shape(), 4).unwrap();
    let pool = all.subset(&(0..480).collect::<Vec<u32>>()).unwrap();
    let holdout = all.subset(&(480..600).collect::<Vec<u32>>()).unwrap();
    for method in fnn::methods() {
        let mut m = trained(&pool);
        let before = m.params().unwrap();
        let req = ForgetRequest::from_class(&pool, 1).unwrap();
        assert_eq!((req.kind().as_str(), req.class()), ("class", Some(1)));
        let mut opts = ForgetOptions::method(&method).unwrap();
        opts.set("epochs", 1.0).unwrap().set_u64("seed", 5).unwrap();
        let mut phases = 0;
        let report = m
            .forget_with_progress(&req, Some(&holdout), &mut opts, |p| {
                assert!(fnn::names(Names::PhaseKind).contains(&p.phase));
                phases += 1;
                false
            })
            .unwrap();
        assert!(phases > 0);
        assert_eq!(report.method().unwrap(), method);
        assert_eq!(report.get("forget-size").unwrap(), req.len() as f64);
        assert_eq!(report.figures().len(), fnn::names(Names::ReportKey).len());
        let hist = m.history().unwrap();
        assert_eq!(hist.len(), 1);
        assert_eq!(hist[0].digest, req.digest());
        assert_eq!(hist[0].version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(
            m.params().unwrap() == before,
            method == "none",
            "{}",
            method
        );
    }
    let text_req = ForgetRequest::from_index_text(&pool, "9 3 # two\n").unwrap();
    assert_eq!(text_req.indices(), vec![3, 9]);
    assert!(matches!(
        ForgetRequest::from_indices(&pool, &[1, 1]),
        Err(Error::Duplicate(_))
    ));
    assert_eq!(ForgetRequest::random(&pool, 20, 4).unwrap().len(), 20);
}

#[test]
fn cancellation_leaves_the_model_as_it_was() {
    let (x, y) = blobs(2000, 3);
    let ds = Dataset::borrow(Features::U8(&x), Some(&y), shape(), 4).unwrap();
    let mut m = Model::new(SPEC, 1).unwrap();
    let mut o = TrainOptions::new().unwrap();
    o.set("epochs", 50.0).unwrap();
    let mut steps = 0;
    let e = m
        .train_with_progress(&ds, &mut o, |p| {
            steps += 1;
            p.batch == 3
        })
        .unwrap_err();
    assert!(matches!(e, Error::Cancelled(_)) && steps == 3, "{:?}", e);
    let m0 = trained(&ds);
    let mut m = m0.try_clone().unwrap();
    let before = m.to_bytes().unwrap();
    let req = ForgetRequest::from_class(&ds, 0).unwrap();
    let mut opts = ForgetOptions::method("finetune").unwrap();
    opts.set("epochs", 20.0).unwrap();
    let e = m
        .forget_with_progress(&req, None, &mut opts, |p| p.step >= 2)
        .err()
        .unwrap();
    assert!(matches!(e, Error::Cancelled(_)));
    assert_eq!(m.to_bytes().unwrap(), before);
    // A panic in the closure stops the run and comes out after it.
    let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _ = m.forget_with_progress(&req, None, &mut opts, |p| {
            if p.step >= 2 {
                panic!("stop here");
            }
            false
        });
    }));
    assert_eq!(
        *caught.unwrap_err().downcast_ref::<&str>().unwrap(),
        "stop here"
    );
    assert_eq!(m.to_bytes().unwrap(), before);
    assert!(m.history().unwrap().is_empty());
}

#[test]
fn membership_inference() {
    assert_eq!(fnn::mia_auc(&[3.0, 4.0], &[1.0, 2.0]).unwrap(), 1.0);
    assert_eq!(fnn::mia_auc(&[1.0, 2.0], &[1.0, 2.0]).unwrap(), 0.5);
    assert!(matches!(fnn::mia_auc(&[], &[1.0]), Err(Error::Empty(_))));
    assert!(
        (fnn::mia_tpr_at_fpr(&[5.0, 6.0, 1.0], &[0.0, 2.0, 3.0, 4.0], 0.3).unwrap() - 2.0 / 3.0)
            .abs()
            < 1e-12
    );
    assert!((fnn::avg_gap(&[0.5, 1.0], &[0.4, 0.9]).unwrap() - 10.0).abs() < 1e-9);
    assert!(matches!(fnn::avg_gap(&[1.5], &[0.5]), Err(Error::Range(_))));
    let members: Vec<f32> = (0..300).map(|i| 0.01 * (i % 7) as f32).collect();
    let nonmembers: Vec<f32> = (0..300).map(|i| 1.0 + 0.01 * (i % 7) as f32).collect();
    let (acc, spread) = fnn::mia_loss_attack(&members, &nonmembers, 1).unwrap();
    assert!(acc > 0.95 && spread >= 0.0);

    let (x, mut y) = blobs(160, 6);
    for i in (0..160).step_by(3) {
        y[i] = (y[i] + 1) % 4;
    }
    let universe = Dataset::borrow(Features::U8(&x), Some(&y), shape(), 4).unwrap();
    let pool = universe.subset(&(0..80).collect::<Vec<u32>>()).unwrap();
    let mut target = Model::new("input:4x4x1,dense:32,relu,dense:4", 1).unwrap();
    let mut o = TrainOptions::new().unwrap();
    o.set("epochs", 60.0)
        .unwrap()
        .set("lr", 0.01)
        .unwrap()
        .set("batch", 16.0)
        .unwrap();
    target.train(&pool, Some(&o)).unwrap();
    let figures = target
        .membership(
            &pool,
            &universe.subset(&(80..160).collect::<Vec<u32>>()).unwrap(),
            1,
        )
        .unwrap();
    assert_eq!(figures.len(), fnn::names(Names::MembershipKey).len());
    let cand: Vec<u32> = (0..160).step_by(2).collect();
    let member: Vec<u8> = cand.iter().map(|&c| (c < 80) as u8).collect();
    let mut a = fnn::Attack::new(&target, &universe, &cand).unwrap();
    a.set("shadows", 8.0).unwrap().set("threads", 2.0).unwrap();
    let mut done = Vec::new();
    a.train_with_progress(|d, total| {
        done.push((d, total));
        false
    })
    .unwrap();
    assert_eq!(done.last(), Some(&(8, 8)));
    let (auc, tpr1, tpr01) = a.evaluate(&target, &member).unwrap();
    assert!(auc > 0.6 && tpr01 <= tpr1, "{} {} {}", auc, tpr1, tpr01);
    let u = a
        .unlearn(&member, &ForgetOptions::method("finetune").unwrap())
        .unwrap();
    assert_eq!(u.scores(&target).unwrap().len(), cand.len());
}

#[test]
fn handles_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Model>();
    is_send::<Dataset<'static>>();
    is_send::<TrainOptions>();
    is_send::<ForgetOptions>();
    is_send::<ForgetRequest<'static>>();
    is_send::<fnn::Report>();
    is_send::<fnn::Attack<'static>>();
    // A model trained on one thread predicts on another.
    let (x, y) = blobs(100, 9);
    let ds = Dataset::copy(Features::U8(&x), Some(&y), shape(), 4).unwrap();
    let m = trained(&ds);
    let want = m.predict(&ds).unwrap();
    let got = std::thread::spawn(move || m.predict(&ds).unwrap())
        .join()
        .unwrap();
    assert_eq!(got, want);
}

#[test]
fn linked_as_asked() {
    // FNN_STATIC=1 links libfnn.a into the binary: no libfnn.so is mapped.
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let shared = maps.contains("/libfnn.so");
    match std::env::var("FNN_STATIC").as_deref() {
        Ok("1") => assert!(!shared, "libfnn.so is mapped in a static build"),
        Ok("0") => assert!(shared, "libfnn.so is not mapped in a shared build"),
        _ => {}
    }
}
