"""Parties from the JSON snapshots an invoice freezes (app/services/billing/invoicing.py)."""

from app.rendering.snapshots import bank_details, recipient_party, shipping_party, supplier_party, upi_vpa

SUPPLIER = {
    "legal_name": "Sharma & Sons Private Limited",
    "trade_name": "Sharma Electricals",
    "gstin": "29AABCS1429B1ZB",
    "pan": "AABCS1429B",
    "state_code": "29",
    "address_line1": "12, MG Road",
    "address_line2": None,
    "city": "Bengaluru",
    "pincode": "560038",
    "email": "a@sharma.example",
    "phone": "+918041234567",
    "bank_account_name": None,
    "bank_account_number": " ",
    "ifsc": None,
    "upi_vpa": "sharma@okhdfc",
    "state": "Karnataka",
}
RECIPIENT = {
    "name": "Patel Traders LLP",
    "gstin": None,
    "billing_address_line1": "Dalal Street",
    "billing_address_line2": "",
    "billing_city": "Mumbai",
    "billing_state_code": "27",
    "billing_pincode": "400001",
    "shipping_address_line1": "Plot 7, MIDC",
    "shipping_address_line2": None,
    "shipping_city": "Pune",
    "shipping_state_code": "27",
    "shipping_pincode": "411019",
    "email": None,
    "phone": None,
    "state": "Maharashtra",
}


def test_supplier() -> None:
    party = supplier_party(SUPPLIER)
    assert party.legal_name == "Sharma & Sons Private Limited"
    assert party.address_lines == ("12, MG Road",)
    assert party.state_label == "Karnataka (29)"
    assert party.gstin_label == "29AABCS1429B1ZB"
    assert bank_details(SUPPLIER) is None  # blank values are no bank details
    assert bank_details(SUPPLIER | {"ifsc": "HDFC0001234"}) is not None
    assert upi_vpa(SUPPLIER) == "sharma@okhdfc"


def test_recipient_and_shipping() -> None:
    party = recipient_party(RECIPIENT)
    assert party.legal_name == "Patel Traders LLP"
    assert party.gstin_label == "Unregistered"
    assert party.address_lines == ("Dalal Street",)
    shipping = shipping_party(RECIPIENT)
    assert shipping is not None and shipping.city == "Pune" and shipping.state_label == "Maharashtra (27)"
    same = RECIPIENT | {
        "shipping_address_line1": "Dalal Street",
        "shipping_address_line2": "",
        "shipping_city": "Mumbai",
        "shipping_pincode": "400001",
    }
    assert shipping_party(same) is None
    assert shipping_party(RECIPIENT | {"shipping_address_line1": None}) is None
