//! Which steps of a release run: `--only`, `--skip`, and the rehearsal
//! targets that must never publish the extension for real. A step left
//! out stays in the plan, shown as skipped with its reason, so every step
//! of a release is named before the first side effect.

use serde::Serialize;

use crate::preflight::Preflight;
use crate::pypi::Target;
use crate::step::{AnyPlan, AnyStep};

/// A part of the release (`--only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// The Python packages: build (and a rehearsal's steps), publish.
    Python,
    /// The extension: vsce-package, vsce-publish.
    Vscode,
}

impl Part {
    /// The steps of this part.
    fn steps(self) -> &'static [&'static str] {
        match self {
            Part::Python => &["build", "fan-in", "local-index", "publish", "install-check"],
            Part::Vscode => &["vsce-package", "vsce-publish"],
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Part::Python => "python",
            Part::Vscode => "vscode",
        }
    }
}

/// A step of the release and, when it is left out, why.
pub struct Planned {
    /// The step.
    pub step: Box<dyn AnyStep>,
    /// `Some(reason)`: not checked, not run, shown as skipped.
    pub skip: Option<String>,
}

impl Planned {
    /// A step that runs.
    pub fn run(step: Box<dyn AnyStep>) -> Planned {
        Planned { step, skip: None }
    }

    /// The step's name.
    pub fn name(&self) -> &'static str {
        self.step.step_name()
    }
}

/// A step of the release after the check: the plan it runs, or why it is
/// left out.
pub enum Checked {
    /// The plan its check made.
    Run(Box<dyn AnyPlan>),
    /// Why it is left out.
    Skip(String),
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Checked::Run(plan) => f.debug_tuple("Run").field(&plan.describe_any()).finish(),
            Checked::Skip(why) => f.debug_tuple("Skip").field(why).finish(),
        }
    }
}

/// A checked step of the release, by name.
#[derive(Debug)]
pub struct CheckedStep {
    /// The step's name.
    pub name: &'static str,
    /// Its plan, or why it is skipped.
    pub work: Checked,
}

impl CheckedStep {
    /// The plan line: the plan's, or why it is skipped.
    pub fn plan(&self) -> String {
        match &self.work {
            Checked::Skip(why) => format!("skipped: {why}"),
            Checked::Run(plan) => plan.describe_any(),
        }
    }
}

/// Why the extension is not published to `target`, if it is a rehearsal
/// target: a Marketplace version cannot be published twice, so a
/// rehearsal on TestPyPI must not burn the real one.
pub fn rehearsal_target(target: &Target) -> Option<String> {
    (*target == Target::TestPypi).then(|| {
        "--testpypi is a rehearsal: the extension is packaged and checked, not published to the \
         Marketplace or Open VSX (a version there cannot be published twice); publish it with \
         the release to PyPI"
            .to_owned()
    })
}

/// Marks the steps `--only`, `--skip` and the target leave out; a
/// `--skip` or `--only` that names no step of this release is a problem.
pub fn apply(
    steps: &mut [Planned],
    only: Option<Part>,
    skip: &[String],
    target: &Target,
    pre: &mut Preflight,
) {
    let names: Vec<&str> = steps.iter().map(Planned::name).collect();
    for s in skip {
        if !names.contains(&s.as_str()) {
            pre.problem(format!(
                "--skip {s}: this release has no such step; its steps are: {}",
                names.join(", ")
            ));
        }
    }
    if let Some(part) = only
        && !names.iter().any(|n| part.steps().contains(n))
    {
        pre.problem(format!(
            "--only {}: this release has no step of that part (is it enabled in release-kit.toml?); \
             its steps are: {}",
            part.name(),
            names.join(", ")
        ));
    }
    for p in steps.iter_mut() {
        let name = p.name();
        p.skip = if skip.iter().any(|s| s == name) {
            Some(format!("--skip {name}"))
        } else if let Some(part) = only.filter(|part| !part.steps().contains(&name)) {
            Some(format!("--only {}", part.name()))
        } else if name == "vsce-publish" {
            rehearsal_target(target)
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::{Context, Outcome, Plan, Step, StepError};

    /// A step only its name matters for: selection checks nothing.
    struct Named(&'static str);

    struct Never;

    impl Plan for Never {
        type Report = ();
        fn describe(&self) -> String {
            String::new()
        }
        fn run(self, _: &Context<'_>) -> Result<(Outcome, ()), StepError> {
            Err(StepError::failed("selection runs nothing"))
        }
    }

    impl Step for Named {
        type Plan = Never;
        fn name(&self) -> &'static str {
            self.0
        }
        fn check(&self, _: &Context<'_>, _: &mut Preflight) -> Option<Never> {
            None
        }
    }

    fn release() -> Vec<Planned> {
        [
            "build",
            "vsce-package",
            "publish",
            "vsce-publish",
            "hf-prefetch",
        ]
        .into_iter()
        .map(|n| Planned::run(Box::new(Named(n))))
        .collect()
    }

    fn skipped(
        only: Option<Part>,
        skip: &[&str],
        target: Target,
    ) -> (Vec<(&'static str, Option<String>)>, Vec<String>) {
        let mut steps = release();
        let mut pre = Preflight::new();
        let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
        apply(&mut steps, only, &skip, &target, &mut pre);
        let problems = match pre.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.problems.into_iter().map(|p| p.message).collect(),
        };
        (
            steps.into_iter().map(|p| (p.name(), p.skip)).collect(),
            problems,
        )
    }

    fn left_out(r: &[(&'static str, Option<String>)]) -> Vec<&'static str> {
        r.iter()
            .filter(|(_, s)| s.is_some())
            .map(|(n, _)| *n)
            .collect()
    }

    #[test]
    fn testpypi_never_publishes_the_extension() {
        let (r, problems) = skipped(None, &[], Target::TestPypi);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(left_out(&r), ["vsce-publish"]);
        let why = r[3].1.as_deref().unwrap();
        assert!(
            why.contains("rehearsal") && why.contains("Marketplace"),
            "{why}"
        );
        // PyPI and a private index are real releases.
        for t in [
            Target::Pypi,
            Target::Custom {
                url: "http://127.0.0.1:1/".into(),
            },
        ] {
            assert!(left_out(&skipped(None, &[], t).0).is_empty());
        }
    }

    #[test]
    fn only_and_skip_leave_steps_out_with_the_reason() {
        let (r, _) = skipped(Some(Part::Python), &[], Target::Pypi);
        assert_eq!(
            left_out(&r),
            ["vsce-package", "vsce-publish", "hf-prefetch"]
        );
        assert_eq!(r[1].1.as_deref(), Some("--only python"));
        let (r, _) = skipped(Some(Part::Vscode), &[], Target::Pypi);
        assert_eq!(left_out(&r), ["build", "publish", "hf-prefetch"]);
        let (r, problems) = skipped(None, &["hf-prefetch", "vsce-publish"], Target::Pypi);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(left_out(&r), ["vsce-publish", "hf-prefetch"]);
        assert_eq!(r[4].1.as_deref(), Some("--skip hf-prefetch"));
    }

    #[test]
    fn an_unknown_step_or_part_is_a_problem() {
        let (_, problems) = skipped(None, &["upload"], Target::Pypi);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with(
            "--skip upload: this release has no such step; its steps are: build, vsce-package"
        ));
        let mut steps: Vec<Planned> = vec![Planned::run(Box::new(Named("build")))];
        let mut pre = Preflight::new();
        apply(&mut steps, Some(Part::Vscode), &[], &Target::Pypi, &mut pre);
        let e = pre.finish().unwrap_err();
        assert!(e.problems[0].message.starts_with("--only vscode"), "{e}");
    }
}
