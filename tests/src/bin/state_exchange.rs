//! The Rust side of the state-exchange test (`tests/state_exchange.test.mjs`): writes learned
//! state that JavaScript loads, and loads state that JavaScript wrote, printing what each state
//! answers as JSON so both sides can be compared.
//!
//! ```text
//! state_exchange write <kind> <file>   train a learner of <kind>, save it, print its answers
//! state_exchange read  <kind> <file>   load a learner of <kind>, print its answers
//! ```
//! where `<kind>` is `lora`, `scoped` or `trajectory`.

use std::process::ExitCode;

use microlora_core::{MicroLoRA, OperatorScope, Persistent, ScopedLoRA, TrajectoryBuffer};

const DIM: usize = 8;

fn probe() -> Vec<f32> {
    (0..DIM).map(|i| 0.25 * i as f32 - 0.8).collect()
}

fn json_floats(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("[{}]", items.join(","))
}

fn train_lora() -> MicroLoRA {
    let mut lora = MicroLoRA::new(DIM, 0.3, 0.05).expect("valid parameters");
    let mut out = vec![0.0; DIM];
    for k in 0..5 {
        let x: Vec<f32> = (0..DIM).map(|i| ((i + k) as f32).sin()).collect();
        lora.forward_into(&x, &mut out).expect("valid input");
        lora.adapt(&x.iter().map(|v| v * 0.5 + 0.1).collect::<Vec<_>>()).expect("valid gradient");
    }
    lora
}

fn describe_lora(lora: &MicroLoRA) -> String {
    let mut probe_copy = lora.clone();
    let mut out = vec![0.0; DIM];
    probe_copy.forward_into(&probe(), &mut out).expect("valid input");
    format!(
        r#"{{"forward_count":{},"adapt_count":{},"delta_norm":{:e},"output":{}}}"#,
        lora.forward_count(),
        lora.adapt_count(),
        lora.delta_norm(),
        json_floats(&out)
    )
}

fn train_scoped() -> ScopedLoRA {
    let mut scoped = ScopedLoRA::new(DIM, 0.2, 0.05).expect("valid parameters");
    let mut out = vec![0.0; DIM];
    for (k, scope) in
        [OperatorScope::HashJoin, OperatorScope::Sort, OperatorScope::HashJoin].into_iter().enumerate()
    {
        let x: Vec<f32> = (0..DIM).map(|i| ((i * 2 + k) as f32).cos()).collect();
        scoped.forward_into(scope, &x, &mut out).expect("valid input");
        scoped.adapt(scope, &x).expect("valid gradient");
        scoped.adapt_with_reward(scope, 0.4).expect("valid reward");
    }
    scoped
}

fn describe_scoped(scoped: &ScopedLoRA) -> String {
    let mut probe_copy = scoped.clone();
    let mut out = vec![0.0; DIM];
    let scopes: Vec<String> = OperatorScope::ALL
        .into_iter()
        .map(|scope| {
            probe_copy.forward_into(scope, &probe(), &mut out).expect("valid input");
            format!(
                r#"{{"forward_count":{},"adapt_count":{},"delta_norm":{:e},"output":{}}}"#,
                scoped.forward_count(scope),
                scoped.adapt_count(scope),
                scoped.delta_norm(scope),
                json_floats(&out)
            )
        })
        .collect();
    format!(
        r#"{{"total_forward_count":{},"total_adapt_count":{},"scopes":[{}]}}"#,
        scoped.total_forward_count(),
        scoped.total_adapt_count(),
        scopes.join(",")
    )
}

fn train_trajectory() -> TrajectoryBuffer {
    let mut buffer = TrajectoryBuffer::new(4, DIM).expect("valid capacity");
    for k in 0..6u32 {
        let scope = OperatorScope::from_id(k as usize * 2).expect("scope id below 17");
        buffer.record(&probe(), scope, k % 3, 10.0 + f64::from(k), 12.5).expect("valid record");
    }
    buffer
}

fn describe_trajectory(buffer: &TrajectoryBuffer) -> String {
    let stats = buffer.stats();
    let per_scope: Vec<String> =
        OperatorScope::ALL.iter().map(|s| buffer.count_by_operator(*s).to_string()).collect();
    format!(
        r#"{{"total_count":{},"len":{},"mean_improvement":{:e},"variance":{:e},"best_improvement":{:e},"best_attention":{},"success_rate":{:e},"count_by_operator":[{}]}}"#,
        stats.count(),
        buffer.len(),
        stats.mean_improvement(),
        stats.variance(),
        stats.best_improvement(),
        stats.best_attention(),
        stats.success_rate(),
        per_scope.join(",")
    )
}

fn run(args: &[String]) -> Result<String, String> {
    let [mode, kind, file] = args else {
        return Err("usage: state_exchange write|read lora|scoped|trajectory <file>".into());
    };
    let read = || std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"));
    let write = |bytes: Vec<u8>| std::fs::write(file, bytes).map_err(|e| format!("cannot write {file}: {e}"));
    let refused = |e: microlora_core::LearningError| format!("refused: {e}");
    match (mode.as_str(), kind.as_str()) {
        ("write", "lora") => {
            let lora = train_lora();
            write(lora.to_bytes())?;
            Ok(describe_lora(&lora))
        }
        ("write", "scoped") => {
            let scoped = train_scoped();
            write(scoped.to_bytes())?;
            Ok(describe_scoped(&scoped))
        }
        ("write", "trajectory") => {
            let buffer = train_trajectory();
            write(buffer.to_bytes())?;
            Ok(describe_trajectory(&buffer))
        }
        ("read", "lora") => Ok(describe_lora(&MicroLoRA::from_bytes(&read()?).map_err(refused)?)),
        ("read", "scoped") => Ok(describe_scoped(&ScopedLoRA::from_bytes(&read()?).map_err(refused)?)),
        ("read", "trajectory") => {
            Ok(describe_trajectory(&TrajectoryBuffer::from_bytes(&read()?).map_err(refused)?))
        }
        _ => Err(format!("unknown mode or kind: {mode} {kind}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("state_exchange: {message}");
            ExitCode::FAILURE
        }
    }
}
