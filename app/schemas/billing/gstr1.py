"""GSTR-1's summary: the totals per section of a month's return, and the sales register's totals
they must add up to. Amounts are decimal strings (the return itself uses GSTN's JSON numbers)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.billing.ledger import MoneyOut

Section = Literal["b2b", "b2cl", "b2cs", "exp", "nil", "cdnr", "cdnur"]
Gstr1Format = Literal["json", "xlsx"]


class TaxAmounts(BaseModel):
    taxable_value: MoneyOut
    igst: MoneyOut
    cgst: MoneyOut
    sgst: MoneyOut = Field(description="SGST or UTGST.")
    cess: MoneyOut


class SectionTotals(TaxAmounts):
    section: Section
    documents: int = Field(description="Invoices or notes listed; rows for b2cs (aggregated) and nil.")
    sign: Literal[1, -1] = Field(description="-1 for credit notes (cdnr, cdnur): they reduce the net.")


class RegisterTotals(TaxAmounts):
    documents: int


class Register(BaseModel):
    invoices: RegisterTotals = Field(description="Issued invoices dated in the month (voided ones left out).")
    credit_notes: RegisterTotals = Field(description="Credit notes dated in the month.")
    net: TaxAmounts = Field(description="Invoices minus credit notes.")


AMOUNTS_EXAMPLE: dict[str, Any] = {
    "taxable_value": "1000.00",
    "igst": "0.00",
    "cgst": "90.00",
    "sgst": "90.00",
    "cess": "0.00",
}
SUMMARY_EXAMPLE: dict[str, Any] = {
    "gstin": "29AAPFU0939F1ZV",
    "period": "2026-11",
    "sections": [{"section": "b2b", "documents": 1, "sign": 1, **AMOUNTS_EXAMPLE}],
    "net_of_sections": AMOUNTS_EXAMPLE,
    "excluded": {"documents": 0, **{k: "0.00" for k in AMOUNTS_EXAMPLE}},
    "sales_register": {
        "invoices": {"documents": 1, **AMOUNTS_EXAMPLE},
        "credit_notes": {"documents": 0, **{k: "0.00" for k in AMOUNTS_EXAMPLE}},
        "net": AMOUNTS_EXAMPLE,
    },
    "balanced": True,
    "lines_without_hsn": 0,
}


class Gstr1Summary(BaseModel):
    gstin: str
    period: str = Field(description="YYYY-MM.")
    sections: list[SectionTotals]
    net_of_sections: TaxAmounts = Field(description="Sum of the sections, credit notes subtracted.")
    excluded: RegisterTotals = Field(
        description="Documents of a month when the supplier was not a regular taxpayer (composition, "
        "unregistered): in no section; credit notes subtract."
    )
    sales_register: Register
    balanced: bool = Field(description="net_of_sections + excluded = sales_register.net, component by component.")
    lines_without_hsn: int = Field(description="Lines left out of the HSN summary for want of an HSN/SAC code.")

    model_config = ConfigDict(json_schema_extra={"examples": [SUMMARY_EXAMPLE]})
