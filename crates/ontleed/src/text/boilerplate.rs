//! Page furniture detection: the short non-article paragraphs that scrapers keep (section names,
//! "Gerelateerde artikelen", "Volg ons", adverts, photo credits).

/// Phrases that, as a whole short paragraph or at its start, mark page furniture.
const FURNITURE: &[&str] = &[
    "gerelateerde artikelen",
    "gerelateerd",
    "lees ook",
    "lees meer",
    "lees verder",
    "meer nieuws",
    "meest gelezen",
    "volg ons",
    "deel dit artikel",
    "deel dit",
    "delen",
    "reageer",
    "reacties",
    "advertentie",
    "gesponsord",
    "bekijk ook",
    "bezoek",
    "abonneer",
    "schrijf je in",
    "nieuwsbrief",
    "cookie",
    "foto:",
    "beeld:",
    "bron:",
    "© ",
    "copyright",
    "tags:",
    "related articles",
    "follow us",
    "share this",
    "advertisement",
    "read more",
];

/// Single words that, standing alone as a paragraph, are section labels.
const SECTION_LABELS: &[&str] = &[
    "nieuws",
    "business",
    "economie",
    "sport",
    "tech",
    "technologie",
    "binnenland",
    "buitenland",
    "politiek",
    "cultuur",
    "opinie",
    "media",
    "wetenschap",
    "gezondheid",
    "home",
    "menu",
    "video",
    "regio",
    "financieel",
    "games",
    "auto",
    "lifestyle",
    "column",
];

/// Marks each paragraph that is page furniture rather than article text.
///
/// A paragraph counts as furniture when it is short (at most eight words) and either is a known
/// furniture phrase or section label, is an advert (a percentage with "korting"/"gratis"), is a
/// photo caption with a credit ("…. Bron: X"), or repeats an earlier short paragraph verbatim.
pub fn is_boilerplate(paragraphs: &[&str]) -> Vec<bool> {
    let mut seen: Vec<&str> = Vec::new();
    paragraphs
        .iter()
        .map(|p| {
            let p = p.trim();
            let words = p.split_whitespace().count();
            let lower = p.to_lowercase();
            let short = words <= 8;
            let repeated = short && seen.contains(&p);
            seen.push(p);
            if lower.contains(" bron: ") || lower.contains(". bron:") || lower.contains("(foto:") {
                return true;
            }
            if !short {
                return false;
            }
            let trimmed = lower.trim_end_matches(['.', ':', '!']);
            repeated
                || FURNITURE
                    .iter()
                    .any(|f| trimmed == f.trim_end_matches(':') || lower.starts_with(f))
                || (words == 1 && SECTION_LABELS.contains(&trimmed))
                || ((lower.contains('%') || lower.contains('€'))
                    && (lower.contains("korting")
                        || lower.contains("gratis")
                        || lower.contains("actie")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_furniture_not_text() {
        let paras = [
            "Nieuws",
            "Huawei in gesprekken met Amerikaanse bedrijven voor levering 5G",
            "Vincent Pang meldde aan Reuters dat het bedrijf onderhandelt.",
            "Vincent Pang, vicevoorzitter van Huawei. Bron: Huawei",
            "Muiterij?",
            "Gerelateerde artikelen",
            "Volg ons",
            "69% korting + 3 maanden gratis",
            "69% korting + 3 maanden gratis",
            "Bezoek NordVPN",
            "Business",
        ];
        let marks = is_boilerplate(&paras);
        assert_eq!(
            marks,
            [
                true, false, false, true, false, true, true, true, true, true, true
            ]
        );
    }
}
