//! Rendering reply templates. Template source comes only from the pack;
//! everything from a message (names, subjects, text) arrives as data in the
//! context, so `{{ }}` or `{% %}` typed by a user is printed literally.
//! Undefined variables are errors, so a typo in a template fails loudly in
//! tests instead of leaving a blank in a user's reply.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::pack::Pack;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("pack {pack}: no template {name:?}; add templates/{pack}/{name} or fix the step's template key")]
    Unknown { pack: String, name: String },
    #[error("pack {pack}: template {name} failed: {source:#}; check its variables against docs/CLASSIFICATION.md")]
    Failed {
        pack: String,
        name: String,
        source: minijinja::Error,
    },
}

/// Render one of the pack's templates with `ctx` as its variables.
pub fn render(pack: &Pack, template: &str, ctx: &serde_json::Value) -> Result<String, RenderError> {
    let src = pack.templates.get(template).ok_or_else(|| RenderError::Unknown {
        pack: pack.name.clone(),
        name: template.to_string(),
    })?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Replies are plain text: nothing to escape, and HTML-escaping would
    // mangle addresses and commands.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.add_filter("oneline", |s: String| crate::message::sanitize_line(&s));
    let failed = |source| RenderError::Failed {
        pack: pack.name.clone(),
        name: template.to_string(),
        source,
    };
    env.add_template(template, src).map_err(failed)?;
    let tmpl = env.get_template(template).map_err(failed)?;
    tmpl.render(ctx).map_err(failed)
}
