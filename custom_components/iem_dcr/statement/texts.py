"""The statement's document texts, one table per language.

These are texts of a document (PDF, spreadsheet headers), not Home Assistant
UI strings: both tables have the same keys and placeholders (a test checks it).
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "de")

EN: Final[dict[str, str]] = {
    "title": "Charging sessions",
    "subtitle": "Statement of the energy measured per session by a calibrated meter",
    "meter": "Meter",
    "serial": "Serial number",
    "public_key": "Public key",
    "fingerprint": "Fingerprint (SHA-256)",
    "period": "Period",
    "driver": "Driver",
    "all_drivers": "all",
    "price_method": "Price method",
    "created": "Created",
    "times": "Times are the meter's signed times, shown in {zone}.",
    "page": "Page {page} of {pages}",
    "col_session": "Session",
    "col_date": "Date",
    "col_begin": "Begin",
    "col_end": "End",
    "col_driver": "Driver",
    "col_energy": "kWh",
    "col_price": "{currency}/kWh",
    "col_cost": "Cost ({currency})",
    "col_verified": "Verified",
    "col_method": "Price method",
    "total": "Total",
    "totals": "{sessions} sessions, {energy} kWh, {cost}",
    "totals_verified": "Of these, verified: {sessions} sessions, {energy} kWh, {cost}",
    "totals_unpriced": "{count} sessions have no price; they are not in the cost total.",
    "no_sessions": "No charging session in this period.",
    "verdict_valid": "yes",
    "verdict_findings": "with findings",
    "verdict_invalid": "NO",
    "verdict_unchecked": "no key",
    "verdict_unreadable": "unreadable",
    "method_driver": "the driver's own price",
    "method_fixed": "a fixed price per kWh",
    "method_entity": (
        "the price entity's value, weighted by the energy of each poll (every "
        "second) over the session"
    ),
    "method_flat_rate": "a flat rate of {price} per kWh for every session",
    "method_none": "no price",
    "methods_used": "Prices: {methods}. Each cost is rounded to the cent (half up).",
    "remarks": "Remarks",
    "remarks_intro": "Sessions marked * have a remark:",
    "remark_sessions": "{sessions}: {remark}",
    "remark_gap": (
        "Home Assistant was not running for part of this session: {energy} kWh "
        "were priced at {price} per kWh, the price when it was back."
    ),
    "remark_price_unavailable": (
        "The price entity had no value for {energy} kWh; they were priced at "
        "{price} per kWh, the next known price."
    ),
    "remark_scaled": (
        "The polled energy ({polled} kWh) does not add up to the signed energy "
        "({signed} kWh): the cost was scaled to the signed energy."
    ),
    "remark_unmatched": (
        "No price was polled while energy flowed: all energy was priced at "
        "{price} per kWh, the price at the end."
    ),
    "remark_not_settled": (
        "Priced with today's price: no price was recorded when the session ended."
    ),
    "remark_no_price": "No price is known for this session.",
    "remark_finding": "Finding of the calibration-law check: {message}.",
    "remark_tps": (
        "The Transparenzsoftware cannot check this signature ({reason}); the "
        "integration checked it."
    ),
    "remark_invalid": (
        "The signature does not match the meter's public key: the data were "
        "changed or come from another meter. Do not bill this session."
    ),
    "remark_unchecked": (
        "No public key was known to check the signature; check it with the "
        "Transparenzsoftware."
    ),
    "remark_unreadable": "The signed data cannot be read ({error}).",
    "remark_not_in_xml": (
        "This session is not in the XML file: it cannot be written in the "
        "Transparenzsoftware's format."
    ),
    "how_to_check_title": "How to check each session",
    "how_to_check": (
        "Every session was signed by the meter, a measuring instrument "
        "certified under German calibration law (Eichrecht). To check one: "
        "download the free S.A.F.E. Transparenzsoftware from safe-ev.de, "
        "start it and open the file {xml} that comes with this statement. "
        "It checks the signature of each session against the meter's public "
        "key and shows the signed readings. Compare the public key with the "
        "one on the meter's display or in its documentation (fingerprint "
        "above). A session whose signature is valid was measured by this "
        "meter and has not been changed since."
    ),
    "note_title": "Note",
    "footer": "Meter {serial} · {period}",
    "month_1": "January",
    "month_2": "February",
    "month_3": "March",
    "month_4": "April",
    "month_5": "May",
    "month_6": "June",
    "month_7": "July",
    "month_8": "August",
    "month_9": "September",
    "month_10": "October",
    "month_11": "November",
    "month_12": "December",
}

DE: Final[dict[str, str]] = {
    "title": "Ladevorgänge",
    "subtitle": "Nachweis der je Ladevorgang von einem geeichten Zähler gemessenen Energie",
    "meter": "Zähler",
    "serial": "Seriennummer",
    "public_key": "Öffentlicher Schlüssel",
    "fingerprint": "Fingerabdruck (SHA-256)",
    "period": "Zeitraum",
    "driver": "Fahrer",
    "all_drivers": "alle",
    "price_method": "Preisermittlung",
    "created": "Erstellt",
    "times": "Zeiten sind die signierten Zeiten des Zählers, dargestellt in {zone}.",
    "page": "Seite {page} von {pages}",
    "col_session": "Vorgang",
    "col_date": "Datum",
    "col_begin": "Beginn",
    "col_end": "Ende",
    "col_driver": "Fahrer",
    "col_energy": "kWh",
    "col_price": "{currency}/kWh",
    "col_cost": "Kosten ({currency})",
    "col_verified": "Geprüft",
    "col_method": "Preisermittlung",
    "total": "Summe",
    "totals": "{sessions} Ladevorgänge, {energy} kWh, {cost}",
    "totals_verified": "Davon geprüft: {sessions} Ladevorgänge, {energy} kWh, {cost}",
    "totals_unpriced": (
        "{count} Ladevorgänge haben keinen Preis; sie fehlen in der Kostensumme."
    ),
    "no_sessions": "Kein Ladevorgang in diesem Zeitraum.",
    "verdict_valid": "ja",
    "verdict_findings": "mit Befund",
    "verdict_invalid": "NEIN",
    "verdict_unchecked": "kein Schlüssel",
    "verdict_unreadable": "unlesbar",
    "method_driver": "eigener Preis des Fahrers",
    "method_fixed": "fester Preis je kWh",
    "method_entity": (
        "Wert der Preis-Entität, gewichtet mit der Energie jeder Abfrage "
        "(sekündlich) über den Ladevorgang"
    ),
    "method_flat_rate": "Pauschale von {price} je kWh für jeden Ladevorgang",
    "method_none": "kein Preis",
    "methods_used": (
        "Preise: {methods}. Jeder Betrag ist auf den Cent gerundet (kaufmännisch)."
    ),
    "remarks": "Hinweise",
    "remarks_intro": "Zu den mit * markierten Ladevorgängen gibt es einen Hinweis:",
    "remark_sessions": "{sessions}: {remark}",
    "remark_gap": (
        "Home Assistant lief während eines Teils dieses Ladevorgangs nicht: "
        "{energy} kWh wurden zu {price} je kWh berechnet, dem Preis, als es "
        "wieder lief."
    ),
    "remark_price_unavailable": (
        "Die Preis-Entität hatte für {energy} kWh keinen Wert; sie wurden zu "
        "{price} je kWh berechnet, dem nächsten bekannten Preis."
    ),
    "remark_scaled": (
        "Die abgefragte Energie ({polled} kWh) ergibt nicht die signierte "
        "Energie ({signed} kWh): die Kosten wurden auf die signierte Energie "
        "umgerechnet."
    ),
    "remark_unmatched": (
        "Während Energie floss, wurde kein Preis abgefragt: die gesamte Energie "
        "wurde zu {price} je kWh berechnet, dem Preis am Ende."
    ),
    "remark_not_settled": (
        "Mit dem heutigen Preis berechnet: am Ende des Ladevorgangs wurde kein "
        "Preis festgehalten."
    ),
    "remark_no_price": "Für diesen Ladevorgang ist kein Preis bekannt.",
    "remark_finding": "Befund der eichrechtlichen Prüfung: {message}.",
    "remark_tps": (
        "Die Transparenzsoftware kann diese Signatur nicht prüfen ({reason}); "
        "die Integration hat sie geprüft."
    ),
    "remark_invalid": (
        "Die Signatur passt nicht zum öffentlichen Schlüssel des Zählers: die "
        "Daten wurden verändert oder stammen von einem anderen Zähler. Diesen "
        "Ladevorgang nicht abrechnen."
    ),
    "remark_unchecked": (
        "Zum Prüfen der Signatur war kein öffentlicher Schlüssel bekannt; prüfen "
        "Sie sie mit der Transparenzsoftware."
    ),
    "remark_unreadable": "Die signierten Daten sind nicht lesbar ({error}).",
    "remark_not_in_xml": (
        "Dieser Ladevorgang fehlt in der XML-Datei: er lässt sich nicht im "
        "Format der Transparenzsoftware schreiben."
    ),
    "how_to_check_title": "So prüfen Sie jeden Ladevorgang",
    "how_to_check": (
        "Jeder Ladevorgang wurde vom Zähler signiert, einem nach dem Eichrecht "
        "zugelassenen Messgerät. Zum Prüfen laden Sie die kostenlose S.A.F.E. "
        "Transparenzsoftware von safe-ev.de herunter, starten sie und öffnen "
        "die Datei {xml}, die zu diesem Nachweis gehört. Sie prüft die Signatur "
        "jedes Ladevorgangs mit dem öffentlichen Schlüssel des Zählers und "
        "zeigt die signierten Messwerte. Vergleichen Sie den öffentlichen "
        "Schlüssel mit dem auf dem Display des Zählers oder in seinen "
        "Unterlagen (Fingerabdruck oben). Ein Ladevorgang mit gültiger Signatur "
        "wurde von diesem Zähler gemessen und seither nicht verändert."
    ),
    "note_title": "Hinweis",
    "footer": "Zähler {serial} · {period}",
    "month_1": "Januar",
    "month_2": "Februar",
    "month_3": "März",
    "month_4": "April",
    "month_5": "Mai",
    "month_6": "Juni",
    "month_7": "Juli",
    "month_8": "August",
    "month_9": "September",
    "month_10": "Oktober",
    "month_11": "November",
    "month_12": "Dezember",
}

TEXTS: Final[dict[str, dict[str, str]]] = {"en": EN, "de": DE}

# German wording of the calibration-law findings (ocmf.eichrecht codes and the
# session's own); English uses the finding's message, which names details.
FINDINGS_DE: Final[dict[str, str]] = {
    "no_begin": "kein Messwert beginnt den Ladevorgang",
    "several_begins": "mehrere Messwerte beginnen den Ladevorgang",
    "no_end": "kein Messwert beendet den Ladevorgang",
    "several_ends": "mehrere Messwerte beenden den Ladevorgang",
    "end_before_begin": "der End-Messwert liegt vor dem Beginn",
    "meter_status": "der Zähler meldet einen Fehlerstatus",
    "energy_unusable": "der Zähler kennzeichnet die Energie als unbrauchbar",
    "time_unusable": "der Zähler kennzeichnet die Zeit als unbrauchbar",
    "exception_reading": "der Zähler meldet einen Fehler während des Ladens",
    "time_decreasing": "die Zeit eines Messwerts liegt vor der des vorigen",
    "value_decreasing": "ein Zählerstand ist kleiner als der vorige",
    "missing_value": "ein Messwert hat keinen Zählerstand",
    "unit_mismatch": "Beginn und Ende haben verschiedene Einheiten",
    "obis_mismatch": "Beginn und Ende haben verschiedene OBIS-Kennzahlen",
    "identification_error": (
        "die Identifikationsstufe ist ein Fehlerwert (z. B. UNKNOWN)"
    ),
    "negative_energy": "der End-Zählerstand ist kleiner als der Beginn",
    "energy_unit": "die Einheit des Zählerstands ist nicht kWh oder Wh",
    "unreadable": "die signierten Daten sind nicht lesbar",
    "check_failed": "die eichrechtliche Prüfung ist fehlgeschlagen",
}

# Legal basis an employer needs for tax-free refunds of charging a company car
# at home (offered as the configurable note; not legal advice).
LEGAL_BASIS_NOTE: Final[dict[str, str]] = {
    "en": (
        "Since 1 January 2026 (letter of the German Federal Ministry of Finance "
        "of 11 November 2025), an employer may refund the electricity for "
        "charging a company car at home tax-free only against the kWh measured "
        "per charging session by a separate meter, at the employee's own price "
        "per kWh or at the yearly flat rate per kWh (34 ct for 2026)."
    ),
    "de": (
        "Seit dem 1. Januar 2026 (Schreiben des Bundesministeriums der Finanzen "
        "vom 11. November 2025) darf der Arbeitgeber den Strom für das Laden "
        "eines Dienstwagens zu Hause nur noch gegen die je Ladevorgang mit "
        "einem gesonderten Zähler gemessenen kWh steuerfrei erstatten, zum "
        "eigenen Strompreis des Arbeitnehmers je kWh oder zur jährlichen "
        "Pauschale je kWh (34 ct für 2026)."
    ),
}
