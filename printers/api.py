"""The printers endpoints of the spec: list, create, detail, update, delete."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import READ, WRITE
from obico_api.api.schema import error_responses
from printers import selectors, services
from printers.serializers import PrinterCreateInputSerializer, PrinterOutputSerializer, PrinterUpdateInputSerializer


def printer_response(printer, *, status_code=status.HTTP_200_OK) -> Response:
    return Response(PrinterOutputSerializer(printer).data, status=status_code)


class PrinterListApi(APIView):
    required_alternate_scopes = {"GET": [[READ]], "POST": [[WRITE]]}

    @extend_schema(responses={200: PrinterOutputSerializer(many=True), **error_responses()})
    def get(self, request):
        printers = selectors.printer_list(user=request.user)
        return Response(PrinterOutputSerializer(printers, many=True).data)

    @extend_schema(
        request=PrinterCreateInputSerializer,
        responses={
            201: PrinterOutputSerializer,
            **error_responses(
                400,
                s400="Invalid input, or the owner has `PRINTERS_MAX_PER_USER` printers already "
                "(`too_many_printers`); nothing was created.",
            ),
        },
    )
    def post(self, request):
        data = PrinterCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        printer = services.printer_create(owner=request.user, **data.validated_data)
        return printer_response(printer, status_code=status.HTTP_201_CREATED)


class PrinterDetailApi(APIView):
    required_alternate_scopes = {"GET": [[READ]], "PATCH": [[WRITE]], "DELETE": [[WRITE]]}

    @extend_schema(responses={200: PrinterOutputSerializer, **error_responses(404)})
    def get(self, request, printer_id: int):
        return printer_response(selectors.printer_get(user=request.user, printer_id=printer_id))

    @extend_schema(
        request=PrinterUpdateInputSerializer,
        responses={200: PrinterOutputSerializer, **error_responses(400, 404)},
    )
    def patch(self, request, printer_id: int):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        data = PrinterUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return printer_response(services.printer_update(printer=printer, **data.validated_data))

    @extend_schema(
        responses={204: None, **error_responses(400, 404, s400="The printer is printing.")},
    )
    def delete(self, request, printer_id: int):
        printer = selectors.printer_get(user=request.user, printer_id=printer_id)
        services.printer_delete(printer=printer)
        return Response(status=status.HTTP_204_NO_CONTENT)
