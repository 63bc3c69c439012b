from app.api.crud import Resource, crud_router
from app.schemas.billing.companies import CompanyCreate, CompanyRead, CompanyUpdate
from app.services.billing.companies import COMPANIES

router = crud_router(
    Resource(
        catalog=COMPANIES,
        path="/companies",
        tag="companies",
        id_name="company_id",
        create=CompanyCreate,
        update=CompanyUpdate,
        read=CompanyRead,
        flag="archived",
        flag_column="is_archived",
        flag_default=False,
        search_help="legal name, trade name or GSTIN",
    )
)
