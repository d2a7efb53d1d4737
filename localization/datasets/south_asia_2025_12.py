"""South Asia reference dataset "2025.12-south-asia": Bangladesh, Pakistan, India, Sri Lanka.

Loaded once by migration 0008, on top of the starter dataset. Never edit this module to change
data: staff maintain the rows in the admin, or a new migration ships a new dataset module. Each
row names its source; "as summarised by <site>" marks a value read in a secondary summary
rather than in the instrument itself.

What the tables cannot express
------------------------------
- Bangladesh and Pakistan add a 1% landing charge to the CIF value to make the assessable value
  (as summarised by classiccnf.com and the WTO's 2022 tariff data for Bangladesh, and by Pakistani
  worked examples). The customs regimes here value at CIF, so quotes into BD and PK understate
  duty and tax by about 1%.
- Bangladesh supplementary duty is levied on assessable value + customs duty + regulatory duty,
  and VAT on all of these. A DutyRate row is one rate on the duty base, so a line with
  supplementary or regulatory duty needs its combined rate (CD + RD + SD x (1 + CD + RD)) as the
  item's own duty rate; the rows below carry customs duty only.
- Advance income tax (BD 5%, PK withholding) and Bangladesh advance tax / Pakistan's 3% value
  addition tax on commercial imports are prepayments credited against later tax, not a cost of
  landing goods; they are not modelled.
- India's GST rate depends on the goods and, for apparel, on the sale value per piece: up to
  21 Sep 2025 apparel was 5% up to ₹1,000 a piece and 12% above; from 22 Sep 2025 it is 5% up to
  ₹2,500 and 18% above. A TaxRate row has a category (standard, reduced, zero, exempt) but no HS
  code or price threshold, so the 12% slab (abolished on 22 Sep 2025), the 28% slab and the new
  40% rate have no row; a quote into India takes the standard 18%, and a merchant selling
  apparel at 5% sets a tax rate override or passes the rate with the quote.
- West Bengal needs no row of its own: intra-state CGST + SGST equals the IGST rate.

What stays unknown
------------------
- Pakistan: customs duty, additional customs duty and regulatory duty on garments (HS 61/62).
  The National Tariff Policy 2025-30 is moving the 20% top slab, ACD and RD through the
  2025-26 budget and later years; no source read settles the rate of a garment line today.
- Bangladesh: supplementary duty on garments (varies by tariff line, not sourced), and whether
  the withdrawal of the 3% regulatory duty on 191 apparel lines proposed in the 2023-24 budget
  covers every line of chapters 61 and 62 (as summarised by The Business Standard and Dhaka
  Tribune, 1 Jun 2023).
- India: basic customs duty and the social welfare surcharge on garments (not sourced), and the
  de-minimis rules of all three countries.
- Sri Lanka and Nepal customs regimes and duties; Sri Lanka's rates before 1 Sep 2022.
- Nepal: the 13% standard rate is widely summarised, but not the date it replaced the 10% rate
  the VAT Act 2052 started with; without a start date there is no row.

Dates worth knowing
-------------------
- Pakistan's standard rate became 18% on 15 Feb 2023, not on 1 Jul 2023: SRO 179(I)/2023 raised
  it under section 3(2)(b), and the Finance (Supplementary) Act 2023 wrote 18% into section 3(1)
  (FBR's text of the Act as amended up to 23 Feb 2023, as summarised by Spectrum Consultancy).
  The SRO is dated 14 Feb 2023 and applied from the following day (as summarised by
  ProPakistani, 15 Feb 2023). So 30 Jun 2023 and 1 Jul 2023 both take 18%.
- The Bangladesh garment rows start on 1 Jul 2023, the first day of the 2023-24 budget year in
  which the 3% regulatory duty on apparel was proposed for withdrawal; the 25% rate is older.
"""

import datetime as dt

VERSION = "2025.12-south-asia"
CHECKED = dt.date(2025, 12, 1)
D = dt.date

GST_COUNCIL_56 = "on the recommendations of the 56th GST Council (3 Sep 2025)"

# (country, region, category, name, rate, effective_from, effective_to, source)
TAX_RATES = [
    (
        "BD",
        "",
        "standard",
        "VAT (মূসক) standard rate",
        "0.15",
        D(2019, 7, 1),
        None,
        "Value Added Tax and Supplementary Duty Act 2012 (Act 47 of 2012) s.15, in force from 1 Jul 2019",
    ),
    (
        "PK",
        "",
        "standard",
        "Sales tax standard rate (before 15 Feb 2023)",
        "0.17",
        D(2013, 6, 13),
        D(2023, 2, 15),
        "Sales Tax Act 1990 s.3(1) as amended by the Finance Act 2013, from 13 Jun 2013 "
        "(as summarised by regfollower.com)",
    ),
    (
        "PK",
        "",
        "standard",
        "Sales tax standard rate",
        "0.18",
        D(2023, 2, 15),
        None,
        "SRO 179(I)/2023 of 14 Feb 2023 under Sales Tax Act 1990 s.3(2)(b); s.3(1) as amended by the "
        "Finance (Supplementary) Act 2023 (as summarised by ProPakistani, 15 Feb 2023)",
    ),
    (
        "IN",
        "",
        "standard",
        "GST 18% (IGST; CGST 9% + SGST 9%)",
        "0.18",
        D(2025, 9, 22),
        None,
        "Notification 9/2025-Integrated Tax (Rate) and 9/2025-Central Tax (Rate) of 17 Sep 2025, "
        f"Schedule II, {GST_COUNCIL_56}",
    ),
    (
        "IN",
        "",
        "reduced",
        "GST 5% (IGST; CGST 2.5% + SGST 2.5%; apparel up to ₹2,500 a piece)",
        "0.05",
        D(2025, 9, 22),
        None,
        "Notification 9/2025-Integrated Tax (Rate) and 9/2025-Central Tax (Rate) of 17 Sep 2025, "
        f"Schedule I, {GST_COUNCIL_56}",
    ),
    (
        "LK",
        "",
        "standard",
        "VAT standard rate (before 1 Jan 2024)",
        "0.15",
        D(2022, 9, 1),
        D(2024, 1, 1),
        "Raised from 12% with effect from 1 Sep 2022 (as summarised by Lanka News Line from the interim "
        "budget speech of 2022, and by VATupdate)",
    ),
    (
        "LK",
        "",
        "standard",
        "VAT standard rate",
        "0.18",
        D(2024, 1, 1),
        None,
        "Value Added Tax (Amendment) Act No. 16 of 2024, certified 20 Mar 2024, from 1 Jan 2024 "
        "(as summarised by VATupdate from the Inland Revenue Department's notice)",
    ),
]

# Starter rows that this dataset's rows succeed: (country, region, category, effective_from, ends).
TAX_RATES_ENDED = [
    ("IN", "", "standard", D(2017, 7, 1), D(2025, 9, 22)),
    ("IN", "", "reduced", D(2017, 7, 1), D(2025, 9, 22)),
]

# (country, duty_basis, tax_base, import tax name, source)
CUSTOMS_REGIMES = [
    (
        "BD",
        "CIF",
        "cif_plus_duty",
        "VAT",
        "Customs Act 2023 (assessable value, CIF; as summarised by rakibhassan.eu); VAT on assessable value "
        "+ customs duty + regulatory duty + supplementary duty (Bangladesh Trade Portal, General Tariff "
        "Interpretation)",
    ),
    (
        "PK",
        "CIF",
        "cif_plus_duty",
        "sales tax",
        "Customs Act 1969 s.25 (customs value, CIF); Sales Tax Act 1990 s.2(46): value of imported goods "
        "includes customs duties and federal excise duty",
    ),
]

# (destination, origin, hs_prefix, description, kind, ad_valorem, specific, currency, unit, from, to, source)
BD_TOP_RATE = (
    "Bangladesh Customs Tariff, First Schedule to the Customs Act: 25% top rate on finished goods "
    "(as summarised by 7starvatconsultant.com)"
)
DUTY_RATES = [
    (
        "BD",
        "",
        "61",
        "Knitted apparel: customs duty only (supplementary duty not included)",
        "ad_valorem",
        "0.25",
        "0",
        "",
        "",
        D(2023, 7, 1),
        None,
        BD_TOP_RATE,
    ),
    (
        "BD",
        "",
        "62",
        "Woven apparel: customs duty only (supplementary duty not included)",
        "ad_valorem",
        "0.25",
        "0",
        "",
        "",
        D(2023, 7, 1),
        None,
        BD_TOP_RATE,
    ),
]
