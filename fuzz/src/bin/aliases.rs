//! The alias file parsers (src/entities/aliases.rs): TOML when the first byte is even, CSV when
//! odd. A table that parses is looked up with every form it holds.

use ontleed::entities::Aliases;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let parsed = if mode % 2 == 0 {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            Aliases::from_toml_str(text)
        } else {
            Aliases::from_csv_reader(rest)
        };
        if let Ok(aliases) = parsed {
            let aliases = aliases.with_fallback(Aliases::empty());
            let forms: Vec<String> = aliases
                .entries()
                .iter()
                .flat_map(|e| {
                    std::iter::once(&e.name)
                        .chain(&e.aliases)
                        .chain(&e.demonyms)
                })
                .cloned()
                .collect();
            for form in &forms {
                let _ = aliases.lookup(form);
                let _ = aliases.lookup(&form.to_uppercase());
            }
            assert_eq!(aliases.len(), aliases.entries().len());
        }
    });
}
