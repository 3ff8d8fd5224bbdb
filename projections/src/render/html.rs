//! A printable HTML page: self-contained (inline style), escaped, A4 when printed.

use super::Printable;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn lines_block(class: &str, lines: &[String]) -> String {
    let inner: Vec<String> = lines.iter().map(|l| escape(l)).collect();
    format!("<div class=\"{class}\">{}</div>\n", inner.join("<br>"))
}

pub fn to_html(doc: &Printable) -> String {
    let mut html =
        String::from("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\n");
    html.push_str(&format!(
        "<title>{} {}</title>\n",
        escape(&doc.title),
        escape(&doc.number)
    ));
    html.push_str("<style>@page{size:A4;margin:15mm}body{font-family:'DejaVu Sans',sans-serif;font-size:10pt}table{width:100%;border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:3px}td.n{text-align:right}.parties{display:flex;justify-content:space-between}.mentions{font-size:8pt;margin-top:2em}</style>\n</head><body>\n");
    html.push_str(&format!(
        "<h1>{} n° {}</h1>\n<p>Date : {}</p>\n",
        escape(&doc.title),
        escape(&doc.number),
        escape(&doc.date)
    ));
    html.push_str("<div class=\"parties\">\n");
    html.push_str(&lines_block("seller", &doc.seller));
    html.push_str(&lines_block("customer", &doc.customer));
    html.push_str("</div>\n");
    html.push_str(&lines_block("references", &doc.references));
    html.push_str("<table>\n<tr>");
    for column in &doc.columns {
        html.push_str(&format!("<th>{}</th>", escape(column)));
    }
    html.push_str("</tr>\n");
    for row in &doc.rows {
        html.push_str("<tr>");
        for (index, cell) in row.iter().enumerate() {
            let class = if index == 0 { "" } else { " class=\"n\"" };
            html.push_str(&format!("<td{class}>{}</td>", escape(cell)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n<table class=\"summary\">\n");
    for (label, amount) in &doc.summary {
        html.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
            escape(label),
            escape(amount)
        ));
    }
    html.push_str("</table>\n");
    html.push_str(&lines_block("mentions", &doc.mentions));
    html.push_str("</body></html>\n");
    html
}
