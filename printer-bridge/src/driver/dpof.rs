//! DPOF 1.10 `AUTPRINT.MRK`: the print order a kiosk reads from a job folder.
//!
//! Layout of a job folder: `IMAGES/<files>` and `MISC/AUTPRINT.MRK`; each image's `[JOB]` points
//! at it relative to `MISC/`. Lines end with CRLF, as DPOF writers on cameras do.

use chrono::NaiveDateTime;

use crate::limits::COPIES_MAX;

/// Who wrote the order, in `GEN CRT`.
pub const CREATOR: &str = "comptoir";
/// The folder of the images inside a job folder.
pub const IMAGES_DIR: &str = "IMAGES";
/// The folder of the order file inside a job folder.
pub const MISC_DIR: &str = "MISC";
pub const MRK_FILE: &str = "AUTPRINT.MRK";

/// One `[JOB]`: print `copies` standard prints of `source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MrkJob {
    pub pid: u32,
    pub kind: String,
    pub copies: u32,
    /// Path relative to `MISC/`, e.g. `../IMAGES/001-a.jpg`.
    pub source: String,
}

/// A parsed `AUTPRINT.MRK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mrk {
    pub revision: String,
    pub creator: String,
    pub written_at: String,
    pub jobs: Vec<MrkJob>,
}

/// The name an image gets in `IMAGES/`: its index first (so names never collide) and only safe
/// characters of the order file's name (so a name can never leave the folder).
pub fn image_file_name(index: usize, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .collect();
    format!("{:03}-{}", index + 1, safe.trim_start_matches('.'))
}

/// The MRK text for `images` (file names inside `IMAGES/`), each printed `copies` times.
pub fn render(written_at: NaiveDateTime, images: &[String], copies: u32) -> String {
    assert!(
        (1..=COPIES_MAX).contains(&copies),
        "copies are checked when planning"
    );
    let mut text = String::new();
    text.push_str("[HDR]\r\n");
    text.push_str("GEN REV = 01.10\r\n");
    text.push_str(&format!("GEN CRT = \"{CREATOR}\"\r\n"));
    text.push_str(&format!(
        "GEN DTM = {}\r\n",
        written_at.format("%Y:%m:%d:%H:%M:%S")
    ));
    for (index, image) in images.iter().enumerate() {
        text.push_str("\r\n[JOB]\r\n");
        text.push_str(&format!("PRT PID = {:03}\r\n", index + 1));
        text.push_str("PRT TYP = STD\r\n");
        text.push_str(&format!("PRT QTY = {copies:03}\r\n"));
        text.push_str(&format!("<IMG SRC = \"../{IMAGES_DIR}/{image}\">\r\n"));
    }
    text
}

/// Parses an MRK as a kiosk would; used by the tests to check what the bridge wrote.
pub fn parse(text: &str) -> Result<Mrk, String> {
    let mut mrk = Mrk {
        revision: String::new(),
        creator: String::new(),
        written_at: String::new(),
        jobs: Vec::new(),
    };
    let mut section = "";
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if line == "[HDR]" || line == "[JOB]" {
            section = line;
            if line == "[JOB]" {
                mrk.jobs.push(MrkJob {
                    pid: 0,
                    kind: String::new(),
                    copies: 0,
                    source: String::new(),
                });
            }
            continue;
        }
        parse_line(&mut mrk, section, line)?;
    }
    Ok(mrk)
}

fn parse_line(mrk: &mut Mrk, section: &str, line: &str) -> Result<(), String> {
    if let Some(source) = line
        .strip_prefix("<IMG SRC = \"")
        .and_then(|rest| rest.strip_suffix("\">"))
    {
        let job = mrk.jobs.last_mut().ok_or("IMG SRC outside a [JOB]")?;
        job.source = source.to_string();
        return Ok(());
    }
    let (key, value) = line
        .split_once(" = ")
        .ok_or_else(|| format!("not `KEY = value`: {line}"))?;
    let number = |value: &str| -> Result<u32, String> {
        if value.len() != 3 {
            return Err(format!("{key} must have three digits: {value}"));
        }
        value
            .parse()
            .map_err(|_| format!("{key} is not a number: {value}"))
    };
    match (section, key) {
        ("[HDR]", "GEN REV") => mrk.revision = value.to_string(),
        ("[HDR]", "GEN CRT") => mrk.creator = value.trim_matches('"').to_string(),
        ("[HDR]", "GEN DTM") => mrk.written_at = value.to_string(),
        ("[JOB]", _) => {
            let job = mrk.jobs.last_mut().ok_or("job key outside a [JOB]")?;
            match key {
                "PRT PID" => job.pid = number(value)?,
                "PRT TYP" => job.kind = value.to_string(),
                "PRT QTY" => job.copies = number(value)?,
                _ => return Err(format!("unknown job key {key}")),
            }
        }
        _ => return Err(format!("unexpected {key} in {section:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_order_parses_back() {
        // Proves the MRK we write has the DPOF header and one three-digit [JOB] per image.
        let at = chrono::NaiveDate::from_ymd_opt(2025, 3, 4)
            .and_then(|day| day.and_hms_opt(5, 6, 7))
            .expect("valid date");
        let images = vec![
            image_file_name(0, "a.jpg"),
            image_file_name(1, "../b c.jpg"),
        ];
        let text = render(at, &images, 7);
        assert!(text.contains("GEN DTM = 2025:03:04:05:06:07\r\n"));
        let mrk = parse(&text).expect("parses");
        assert_eq!(mrk.revision, "01.10");
        assert_eq!(mrk.creator, CREATOR);
        assert_eq!(mrk.jobs.len(), 2);
        assert_eq!(mrk.jobs[1].pid, 2);
        assert_eq!(mrk.jobs[1].copies, 7);
        assert_eq!(mrk.jobs[1].kind, "STD");
        assert_eq!(mrk.jobs[1].source, "../IMAGES/002-_b_c.jpg");
    }
}
