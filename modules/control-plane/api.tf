# HTTP API receiving GitHub webhooks: POST /webhook -> control plane (payload 2.0). GitHub cannot
# sign requests with SigV4 or a JWT; the function verifies X-Hub-Signature-256 with the webhook secret.

resource "aws_apigatewayv2_api" "webhook" {
  name          = "${var.name}-webhook"
  description   = "GitHub webhooks for ecsrunner ${var.name}"
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "control_plane" {
  api_id                 = aws_apigatewayv2_api.webhook.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this["control_plane"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = min(var.control_plane_timeout, 30) * 1000
}

resource "aws_apigatewayv2_route" "webhook" {
  #checkov:skip=CKV_AWS_309:GitHub webhooks cannot carry IAM or JWT authorization; every request is authenticated in the function by its HMAC signature (X-Hub-Signature-256).
  api_id    = aws_apigatewayv2_api.webhook.id
  route_key = "POST /webhook"
  target    = "integrations/${aws_apigatewayv2_integration.control_plane.id}"
}

resource "aws_cloudwatch_log_group" "webhook_access" {
  name              = local.log_group_names.webhook_api
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.webhook.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.webhook_throttling_burst_limit
    throttling_rate_limit  = var.webhook_throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.webhook_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      sourceIp           = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      userAgent          = "$context.identity.userAgent"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "webhook" {
  statement_id  = "apigateway-post-webhook"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["control_plane"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.webhook.execution_arn}/*/POST/webhook"
}
