from fastapi import APIRouter

from app.schemas.common import problem_responses

router = APIRouter(prefix="/dashboard", tags=["dashboard"], responses=problem_responses(401, 422))
