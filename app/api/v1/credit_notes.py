from fastapi import APIRouter

from app.schemas.common import problem_responses

router = APIRouter(prefix="/credit-notes", tags=["credit notes"], responses=problem_responses(401, 422))
