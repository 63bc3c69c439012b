"""/client-types, /account-managers, /service-types."""

from fastapi import APIRouter

from app.api.crud import Resource, crud_router
from app.schemas.billing import simple_lists as schemas
from app.services.billing.simple_list_entities import ACCOUNT_MANAGERS, CLIENT_TYPES, SERVICE_TYPES

ACTIVE = {"flag": "is_active", "flag_column": "is_active"}

router = APIRouter()
for resource in (
    Resource(
        CLIENT_TYPES,
        "/client-types",
        "client types",
        "client_type_id",
        schemas.ClientTypeCreate,
        schemas.ClientTypeUpdate,
        schemas.ClientTypeRead,
        **ACTIVE,
    ),
    Resource(
        ACCOUNT_MANAGERS,
        "/account-managers",
        "account managers",
        "account_manager_id",
        schemas.AccountManagerCreate,
        schemas.AccountManagerUpdate,
        schemas.AccountManagerRead,
        **ACTIVE,
        search_help="name, email or phone",
    ),
    Resource(
        SERVICE_TYPES,
        "/service-types",
        "service types",
        "service_type_id",
        schemas.ServiceTypeCreate,
        schemas.ServiceTypeUpdate,
        schemas.ServiceTypeRead,
        **ACTIVE,
        search_help="name or SAC/HSN code",
    ),
):
    router.include_router(crud_router(resource))
