"""Filter types shared by the list endpoints, and the filter backend every list goes through."""

from datetime import datetime

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView

from core.timestamps import utc_offset_error


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    """One or more values of the row's own column (repeat the parameter).

    django-filter makes such a filter ``SELECT DISTINCT`` by default, for filters across to-many
    joins; on a column of the row itself no row can repeat, and at a million rows the DISTINCT
    sorts every match before the page is cut (40 ms instead of 2 ms for a filtered alerts page).
    """

    def __init__(self, *args: object, distinct: bool = False, **kwargs: object) -> None:
        super().__init__(*args, distinct=distinct, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing date-times the database cannot store.

    Checked on the cleaned values of whatever filter produced them (declared or generated from
    ``filterset_fields``, single values or ranges), so every date-time parameter is covered; the
    error joins the form's own, and the backend answers them with one 400 naming each parameter.
    """

    def get_filterset(self, request: Request, queryset: QuerySet, view: APIView) -> django_filters.FilterSet | None:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None and filterset.is_bound:
            form = filterset.form
            form.is_valid()  # cleans it once; the backend reads the errors, ours among them, after
            for name, value in list(form.cleaned_data.items()):
                moments = (value.start, value.stop) if isinstance(value, slice) else (value,)
                problems = {utc_offset_error(moment) for moment in moments if isinstance(moment, datetime)}
                for problem in problems - {None}:
                    form.add_error(name, problem)
        return filterset
